"""Promo codes through the gateway: upper-case codes unique per operator, limits, tenancy."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

PROMO_FIELDS = {
    "id",
    "code",
    "discountId",
    "maxUses",
    "maxUsesPerUser",
    "timesUsed",
    "validFrom",
    "validUntil",
    "isActive",
    "createdAt",
    "updatedAt",
}


def _codes(databases, operator_id) -> list[dict]:
    with databases["commerce"].connect() as connection:
        return [
            dict(row)
            for row in connection.execute(
                text("SELECT * FROM promo_codes WHERE operator_id = :o ORDER BY created_at"), {"o": operator_id}
            ).mappings()
        ]


@pytest.fixture
def discount(gw, operator):
    response = gw.post("/v1/discounts", token=operator.token, json={"name": "Ten", "type": "percentage", "value": 10})
    assert response.status_code == 201
    return response.json()


def _create(gw, owner, discount_id, **body):
    response = gw.post(
        "/v1/promo-codes", token=owner.token, json={"code": "SUMMER20", "discountId": discount_id, **body}
    )
    assert response.status_code == 201, response.text
    return response.json()


class TestCreate:
    def test_create(self, gw, operator, discount):
        body = _create(
            gw,
            operator,
            discount["id"],
            code="summer-2026_a",
            maxUses=100,
            maxUsesPerUser=1,
            validFrom="2026-06-01T00:00:00Z",
        )
        assert set(body) == PROMO_FIELDS
        assert {
            k: body[k]
            for k in (
                "code",
                "discountId",
                "maxUses",
                "maxUsesPerUser",
                "timesUsed",
                "validFrom",
                "validUntil",
                "isActive",
            )
        } == {
            "code": "SUMMER-2026_A",
            "discountId": discount["id"],
            "maxUses": 100,
            "maxUsesPerUser": 1,
            "timesUsed": 0,
            "validFrom": "2026-06-01T00:00:00.000Z",
            "validUntil": None,
            "isActive": True,
        }

    def test_code_is_unique_per_operator_ignoring_case(self, gw, databases, operator, other_operator, discount):
        _create(gw, operator, discount["id"], code="Summer20")
        response = gw.post(
            "/v1/promo-codes", token=operator.token, json={"code": "sUMMER20", "discountId": discount["id"]}
        )
        assert response.status_code == 409 and "code" in response.json()["errors"]["json"]
        assert len(_codes(databases, operator.id)) == 1
        theirs = gw.post(
            "/v1/discounts", token=other_operator.token, json={"name": "T", "type": "fixed", "value": 100}
        ).json()
        _create(gw, other_operator, theirs["id"], code="summer20")  # another operator may use the same code

    def test_concurrent_same_code_one_wins(self, gw, databases, operator, discount):
        with ThreadPoolExecutor(6) as pool:
            codes = list(
                pool.map(
                    lambda i: (
                        gw.post(
                            "/v1/promo-codes",
                            token=operator.token,
                            json={"code": "race" if i % 2 else "RACE", "discountId": discount["id"]},
                        ).status_code
                    ),
                    range(6),
                )
            )
        assert sorted(codes) == [201] + [409] * 5
        assert len(_codes(databases, operator.id)) == 1

    def test_discount_not_mine_is_404_naming_it(self, gw, databases, operator, other_operator):
        theirs = gw.post(
            "/v1/discounts", token=other_operator.token, json={"name": "T", "type": "fixed", "value": 100}
        ).json()
        for discount_id in (theirs["id"], str(uuid.uuid4())):
            response = gw.post(
                "/v1/promo-codes", token=operator.token, json={"code": "MINE", "discountId": discount_id}
            )
            assert response.status_code == 404
            assert response.json()["errors"] == {"json": {"discountId": ["Discount not found."]}}
        assert _codes(databases, operator.id) == []

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"code": "AB"}, "code"),
            ({"code": "A" * 33}, "code"),
            ({"code": "SUMMER 20"}, "code"),
            ({"code": "SOMMERÉ"}, "code"),
            ({"code": "50%OFF"}, "code"),
            ({"code": None}, "code"),
            ({"discountId": "nope"}, "discountId"),
            ({"maxUses": 0}, "maxUses"),
            ({"maxUsesPerUser": -1}, "maxUsesPerUser"),
            ({"maxUses": 1.5}, "maxUses"),
            ({"validFrom": "2026-07-01T00:00:00Z", "validUntil": "2026-06-01T00:00:00Z"}, "validUntil"),
            ({"timesUsed": 5}, "timesUsed"),
        ],
    )
    def test_invalid_is_422_and_creates_nothing(self, gw, databases, operator, discount, body, field):
        response = gw.post(
            "/v1/promo-codes", token=operator.token, json={"code": "VALID", "discountId": discount["id"], **body}
        )
        assert response.status_code == 422, response.text
        assert field in response.json()["errors"]["json"]
        assert _codes(databases, operator.id) == []

    def test_missing_fields(self, gw, operator):
        response = gw.post("/v1/promo-codes", token=operator.token, json={})
        assert response.status_code == 422
        assert set(response.json()["errors"]["json"]) == {"code", "discountId"}


class TestListUpdateDelete:
    def test_list_newest_first_and_only_mine(self, gw, operator, other_operator, discount):
        first, second = (
            _create(gw, operator, discount["id"], code="FIRST"),
            _create(gw, operator, discount["id"], code="SECOND"),
        )
        response = gw.get("/v1/promo-codes", token=operator.token)
        assert response.status_code == 200
        assert [c["id"] for c in response.json()] == [second["id"], first["id"]]
        assert gw.get("/v1/promo-codes", token=other_operator.token).json() == []

    def test_patch(self, gw, operator, discount):
        code = _create(gw, operator, discount["id"], maxUses=10)
        response = gw.patch(
            f"/v1/promo-codes/{code['id']}",
            token=operator.token,
            json={"isActive": False, "maxUses": None, "maxUsesPerUser": 2, "validUntil": "2026-12-31T00:00:00Z"},
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["isActive"], body["maxUses"], body["maxUsesPerUser"], body["validUntil"], body["code"]) == (
            False,
            None,
            2,
            "2026-12-31T00:00:00.000Z",
            "SUMMER20",
        )

    @pytest.mark.parametrize(
        "changes, field",
        [
            ({"code": "OTHER"}, "code"),
            ({"discountId": str(uuid.uuid4())}, "discountId"),
            ({"timesUsed": 0}, "timesUsed"),
            ({"maxUses": 0}, "maxUses"),
            ({"validFrom": "2027-01-01T00:00:00Z"}, "validUntil"),  # after the stored validUntil
        ],
    )
    def test_invalid_patch_is_422_and_changes_nothing(self, gw, databases, operator, discount, changes, field):
        code = _create(gw, operator, discount["id"], validUntil="2026-12-31T00:00:00Z")
        before = _codes(databases, operator.id)
        response = gw.patch(f"/v1/promo-codes/{code['id']}", token=operator.token, json=changes)
        assert response.status_code == 422, response.text
        assert field in response.json()["errors"]["json"]
        assert _codes(databases, operator.id) == before

    def test_delete(self, gw, databases, operator, discount):
        code = _create(gw, operator, discount["id"])
        assert gw.delete(f"/v1/promo-codes/{code['id']}", token=operator.token).status_code == 204
        assert _codes(databases, operator.id) == []
        assert gw.delete(f"/v1/promo-codes/{code['id']}", token=operator.token).status_code == 404
        # The discount is free again.
        assert gw.delete(f"/v1/discounts/{discount['id']}", token=operator.token).status_code == 204

    def test_another_operators_code_is_404(self, gw, databases, operator, other_operator, discount):
        code = _create(gw, operator, discount["id"])
        before = _codes(databases, operator.id)
        assert (
            gw.patch(f"/v1/promo-codes/{code['id']}", token=other_operator.token, json={"isActive": False}).status_code
            == 404
        )
        assert gw.delete(f"/v1/promo-codes/{code['id']}", token=other_operator.token).status_code == 404
        assert _codes(databases, operator.id) == before

    def test_unknown_id(self, gw, operator):
        assert gw.patch(f"/v1/promo-codes/{uuid.uuid4()}", token=operator.token, json={}).status_code == 404


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/v1/promo-codes"),
        ("post", "/v1/promo-codes"),
        ("patch", f"/v1/promo-codes/{uuid.uuid4()}"),
        ("delete", f"/v1/promo-codes/{uuid.uuid4()}"),
    ],
)
def test_roles(gw, databases, operator, photographer, method, path):
    body = {"code": "ROLE", "discountId": str(uuid.uuid4())}
    assert getattr(gw, method)(path, json=body).status_code == 401
    assert getattr(gw, method)(path, token=photographer.token, json=body).status_code == 403
    assert _codes(databases, operator.id) == []
