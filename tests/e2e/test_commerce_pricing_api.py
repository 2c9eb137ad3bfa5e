"""Pricing rules through the gateway: every route's codes, tenancy, and the no-overlap rule under concurrency."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

RULE_FIELDS = {
    "id",
    "projectId",
    "pricePerPhotoCents",
    "compareAtPriceCents",
    "validFrom",
    "validUntil",
    "isActive",
    "createdAt",
    "updatedAt",
}
JUNE = "2026-06-01T00:00:00Z"
JULY = "2026-07-01T00:00:00Z"


def _rules(databases, operator_id) -> list[dict]:
    with databases["commerce"].connect() as connection:
        return [
            dict(row)
            for row in connection.execute(
                text("SELECT * FROM pricing_rules WHERE operator_id = :o ORDER BY created_at"), {"o": operator_id}
            ).mappings()
        ]


def _create(gw, owner, **body):
    response = gw.post("/v1/pricing/rules", token=owner.token, json={"pricePerPhotoCents": 499, **body})
    assert response.status_code == 201, response.text
    return response.json()


class TestCreate:
    def test_operator_default(self, gw, operator):
        body = _create(gw, operator, compareAtPriceCents=799)
        assert set(body) == RULE_FIELDS
        assert {
            k: body[k]
            for k in ("projectId", "pricePerPhotoCents", "compareAtPriceCents", "validFrom", "validUntil", "isActive")
        } == {
            "projectId": None,
            "pricePerPhotoCents": 499,
            "compareAtPriceCents": 799,
            "validFrom": None,
            "validUntil": None,
            "isActive": True,
        }
        assert body["createdAt"].endswith("Z")

    def test_project_override_with_a_window(self, gw, operator, project):
        body = _create(gw, operator, projectId=project["id"], validFrom="2026-06-01T02:00:00+02:00", validUntil=JULY)
        assert (body["projectId"], body["validFrom"], body["validUntil"]) == (
            project["id"],
            "2026-06-01T00:00:00.000Z",
            "2026-07-01T00:00:00.000Z",
        )

    @pytest.mark.parametrize(
        "body, field",
        [
            ({}, "pricePerPhotoCents"),
            ({"pricePerPhotoCents": -1}, "pricePerPhotoCents"),
            ({"pricePerPhotoCents": "499"}, "pricePerPhotoCents"),
            ({"pricePerPhotoCents": 4.99}, "pricePerPhotoCents"),
            ({"pricePerPhotoCents": True}, "pricePerPhotoCents"),
            ({"pricePerPhotoCents": 10**12}, "pricePerPhotoCents"),
            ({"pricePerPhotoCents": 499, "compareAtPriceCents": 499}, "compareAtPriceCents"),
            ({"pricePerPhotoCents": 499, "compareAtPriceCents": 100}, "compareAtPriceCents"),
            ({"pricePerPhotoCents": 499, "validFrom": JULY, "validUntil": JUNE}, "validUntil"),
            ({"pricePerPhotoCents": 499, "validFrom": JUNE, "validUntil": JUNE}, "validUntil"),
            ({"pricePerPhotoCents": 499, "validFrom": "2026-06-01T00:00:00"}, "validFrom"),
            ({"pricePerPhotoCents": 499, "projectId": "not-a-uuid"}, "projectId"),
            ({"pricePerPhotoCents": 499, "isActive": "yes"}, "isActive"),
            ({"pricePerPhotoCents": 499, "operatorId": str(uuid.uuid4())}, "operatorId"),
            ({"pricePerPhotoCents": 499, "timesUsed": 1}, "timesUsed"),
        ],
    )
    def test_invalid_is_422_and_creates_nothing(self, gw, databases, operator, body, field):
        response = gw.post("/v1/pricing/rules", token=operator.token, json=body)
        assert response.status_code == 422, response.text
        assert field in response.json()["errors"]["json"]
        assert _rules(databases, operator.id) == []

    def test_malformed_json_is_400(self, gw, operator):
        response = gw.post(
            "/v1/pricing/rules", token=operator.token, data="{", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400 and response.json()["code"] == 400

    def test_project_not_mine_is_404(self, gw, databases, operator, other_operator, new_project):
        theirs = new_project(other_operator)
        for project_id in (theirs["id"], str(uuid.uuid4())):
            response = gw.post(
                "/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 1, "projectId": project_id}
            )
            assert response.status_code == 404
            assert response.json()["errors"] == {"json": {"projectId": ["Project not found."]}}
        assert _rules(databases, operator.id) == []

    def test_overlapping_active_rules_of_one_scope_are_409(self, gw, databases, operator, project):
        _create(gw, operator, validUntil=JUNE)
        _create(gw, operator, validFrom=JUNE, validUntil=JULY)  # adjacent windows don't overlap
        _create(gw, operator, projectId=project["id"])  # another scope
        for body in ({}, {"validFrom": "2026-06-15T00:00:00Z"}, {"validUntil": "2026-05-01T00:00:00Z"}):
            response = gw.post("/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 1, **body})
            assert response.status_code == 409
            assert response.json()["code"] == 409 and "overlaps" in response.json()["message"]
        response = gw.post(
            "/v1/pricing/rules",
            token=operator.token,
            json={"pricePerPhotoCents": 1, "projectId": project["id"], "validFrom": JULY},
        )
        assert response.status_code == 409
        assert len(_rules(databases, operator.id)) == 3
        _create(gw, operator, isActive=False)  # an inactive rule may overlap

    def test_operators_have_separate_defaults(self, gw, operator, other_operator):
        _create(gw, operator)
        _create(gw, other_operator)

    def test_concurrent_creates_one_wins(self, gw, databases, operator):
        with ThreadPoolExecutor(8) as pool:
            codes = list(
                pool.map(
                    lambda i: (
                        gw.post(
                            "/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 100 + i}
                        ).status_code
                    ),
                    range(8),
                )
            )
        assert sorted(codes) == [201] + [409] * 7
        assert len(_rules(databases, operator.id)) == 1


class TestListUpdateDelete:
    def test_list_newest_first_and_only_mine(self, gw, operator, other_operator, project):
        first = _create(gw, operator, validUntil=JUNE)
        second = _create(gw, operator, projectId=project["id"])
        _create(gw, other_operator)
        response = gw.get("/v1/pricing/rules", token=operator.token)
        assert response.status_code == 200
        assert [rule["id"] for rule in response.json()] == [second["id"], first["id"]]
        assert gw.get("/v1/pricing/rules", token=other_operator.token).json()[0]["id"] not in (
            first["id"],
            second["id"],
        )

    def test_patch(self, gw, operator):
        rule = _create(gw, operator, compareAtPriceCents=799)
        response = gw.patch(
            f"/v1/pricing/rules/{rule['id']}",
            token=operator.token,
            json={"pricePerPhotoCents": 599, "validFrom": JUNE, "isActive": False},
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["pricePerPhotoCents"], body["compareAtPriceCents"], body["validFrom"], body["isActive"]) == (
            599,
            799,
            "2026-06-01T00:00:00.000Z",
            False,
        )
        assert body["updatedAt"] >= rule["updatedAt"] and body["createdAt"] == rule["createdAt"]
        cleared = gw.patch(
            f"/v1/pricing/rules/{rule['id']}",
            token=operator.token,
            json={"compareAtPriceCents": None, "validFrom": None},
        ).json()
        assert (cleared["compareAtPriceCents"], cleared["validFrom"]) == (None, None)

    @pytest.mark.parametrize(
        "changes, field",
        [
            ({"pricePerPhotoCents": 800}, "compareAtPriceCents"),  # the merged rule: 800 ≥ compare-at 799
            ({"compareAtPriceCents": 499}, "compareAtPriceCents"),
            ({"validUntil": "2026-05-01T00:00:00Z"}, "validUntil"),  # before the stored validFrom
            ({"projectId": None}, "projectId"),
            ({"id": str(uuid.uuid4())}, "id"),
            ({"pricePerPhotoCents": None}, "pricePerPhotoCents"),
            ({"isActive": None}, "isActive"),
        ],
    )
    def test_invalid_patch_is_422_and_changes_nothing(self, gw, databases, operator, changes, field):
        rule = _create(gw, operator, compareAtPriceCents=799, validFrom=JUNE)
        before = _rules(databases, operator.id)
        response = gw.patch(f"/v1/pricing/rules/{rule['id']}", token=operator.token, json=changes)
        assert response.status_code == 422, response.text
        assert field in response.json()["errors"]["json"]
        assert _rules(databases, operator.id) == before

    def test_patch_into_an_overlap_is_409_and_changes_nothing(self, gw, databases, operator):
        _create(gw, operator, validUntil=JUNE)
        later = _create(gw, operator, validFrom=JULY)
        dormant = _create(gw, operator, isActive=False)
        before = _rules(databases, operator.id)
        assert (
            gw.patch(
                f"/v1/pricing/rules/{later['id']}", token=operator.token, json={"validFrom": "2026-05-01T00:00:00Z"}
            ).status_code
            == 409
        )
        assert (
            gw.patch(f"/v1/pricing/rules/{dormant['id']}", token=operator.token, json={"isActive": True}).status_code
            == 409
        )
        assert _rules(databases, operator.id) == before

    def test_delete(self, gw, databases, operator):
        rule = _create(gw, operator)
        assert gw.delete(f"/v1/pricing/rules/{rule['id']}", token=operator.token).status_code == 204
        assert _rules(databases, operator.id) == []
        assert gw.delete(f"/v1/pricing/rules/{rule['id']}", token=operator.token).status_code == 404
        assert gw.patch(f"/v1/pricing/rules/{rule['id']}", token=operator.token, json={}).status_code == 404

    def test_another_operators_rule_is_404(self, gw, databases, operator, other_operator):
        rule = _create(gw, operator)
        before = _rules(databases, operator.id)
        assert (
            gw.patch(
                f"/v1/pricing/rules/{rule['id']}", token=other_operator.token, json={"pricePerPhotoCents": 1}
            ).status_code
            == 404
        )
        assert gw.delete(f"/v1/pricing/rules/{rule['id']}", token=other_operator.token).status_code == 404
        assert gw.get("/v1/pricing/rules", token=other_operator.token).json() == []
        assert _rules(databases, operator.id) == before

    def test_unknown_ids(self, gw, operator):
        assert gw.patch(f"/v1/pricing/rules/{uuid.uuid4()}", token=operator.token, json={}).status_code == 404
        assert gw.delete("/v1/pricing/rules/not-a-uuid", token=operator.token).status_code == 404
        response = gw.get("/v1/pricing/nothing-here", token=operator.token)
        assert response.status_code == 404 and response.json()["code"] == 404


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/v1/pricing/rules"),
        ("post", "/v1/pricing/rules"),
        ("patch", f"/v1/pricing/rules/{uuid.uuid4()}"),
        ("delete", f"/v1/pricing/rules/{uuid.uuid4()}"),
    ],
)
def test_roles(gw, databases, operator, photographer, method, path):
    assert getattr(gw, method)(path, json={"pricePerPhotoCents": 1}).status_code == 401
    assert getattr(gw, method)(path, token="not-a-token", json={"pricePerPhotoCents": 1}).status_code == 401
    assert getattr(gw, method)(path, token=photographer.token, json={"pricePerPhotoCents": 1}).status_code == 403
    assert _rules(databases, operator.id) == []
