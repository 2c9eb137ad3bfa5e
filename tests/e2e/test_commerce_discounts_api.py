"""Discounts and a project's discount links through the gateway: codes, validation, tenancy, deletion rules."""

import uuid

import pytest
from sqlalchemy import text

DISCOUNT_FIELDS = {
    "id",
    "name",
    "type",
    "value",
    "bundleMinPhotos",
    "validFrom",
    "validUntil",
    "isActive",
    "createdAt",
    "updatedAt",
}


def _rows(databases, sql, **params) -> list[dict]:
    with databases["commerce"].connect() as connection:
        return [dict(row) for row in connection.execute(text(sql), params).mappings()]


def _discounts(databases, operator_id):
    return _rows(databases, "SELECT * FROM discounts WHERE operator_id = :o ORDER BY created_at", o=operator_id)


def _links(databases, project_id):
    return _rows(databases, "SELECT discount_id FROM project_discounts WHERE project_id = :p", p=project_id)


def _create(gw, owner, **body):
    response = gw.post(
        "/v1/discounts", token=owner.token, json={"name": "Ten off", "type": "percentage", "value": 10, **body}
    )
    assert response.status_code == 201, response.text
    return response.json()


def _link(gw, owner, project_id, discount_id):
    return gw.post(f"/v1/projects/{project_id}/discounts", token=owner.token, json={"discountId": discount_id})


class TestDiscounts:
    def test_create_each_type(self, gw, operator):
        percentage = _create(gw, operator, bundleMinPhotos=7)  # ignored for percentage
        assert set(percentage) == DISCOUNT_FIELDS
        assert (
            percentage["type"],
            percentage["value"],
            percentage["bundleMinPhotos"],
            percentage["isActive"],
            percentage["validFrom"],
            percentage["validUntil"],
        ) == ("percentage", 10, None, True, None, None)
        fixed = _create(
            gw,
            operator,
            type="fixed",
            value=250,
            validFrom="2026-06-01T00:00:00Z",
            validUntil="2026-07-01T00:00:00+01:00",
        )
        assert (fixed["value"], fixed["validFrom"], fixed["validUntil"]) == (
            250,
            "2026-06-01T00:00:00.000Z",
            "2026-06-30T23:00:00.000Z",
        )
        bundle = _create(gw, operator, type="bundle", value=100, bundleMinPhotos=2)
        assert (bundle["value"], bundle["bundleMinPhotos"]) == (100, 2)

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"type": "percentage", "value": 0}, "value"),
            ({"type": "percentage", "value": 101}, "value"),
            ({"type": "bundle", "value": 101, "bundleMinPhotos": 3}, "value"),
            ({"type": "fixed", "value": 0}, "value"),
            ({"type": "fixed", "value": "5"}, "value"),
            ({"type": "bundle", "value": 10}, "bundleMinPhotos"),
            ({"type": "bundle", "value": 10, "bundleMinPhotos": 1}, "bundleMinPhotos"),
            ({"type": "bundle", "value": 10, "bundleMinPhotos": None}, "bundleMinPhotos"),
            ({"type": "loyalty", "value": 10}, "type"),
            ({"name": "", "value": 10}, "name"),
            ({"name": "x" * 201}, "name"),
            ({"validFrom": "2026-07-01T00:00:00Z", "validUntil": "2026-06-01T00:00:00Z"}, "validUntil"),
            ({"validUntil": "2026-06-01"}, "validUntil"),
            ({"operatorId": str(uuid.uuid4())}, "operatorId"),
        ],
    )
    def test_invalid_is_422_and_creates_nothing(self, gw, databases, operator, body, field):
        response = gw.post(
            "/v1/discounts", token=operator.token, json={"name": "D", "type": "percentage", "value": 10, **body}
        )
        assert response.status_code == 422, response.text
        assert field in response.json()["errors"]["json"]
        assert _discounts(databases, operator.id) == []

    def test_missing_fields(self, gw, operator):
        response = gw.post("/v1/discounts", token=operator.token, json={})
        assert response.status_code == 422
        assert set(response.json()["errors"]["json"]) == {"name", "type", "value"}

    def test_list_newest_first_and_only_mine(self, gw, operator, other_operator):
        first, second = _create(gw, operator, name="First"), _create(gw, operator, name="Second")
        _create(gw, other_operator)
        response = gw.get("/v1/discounts", token=operator.token)
        assert response.status_code == 200
        assert [d["id"] for d in response.json()] == [second["id"], first["id"]]

    def test_patch_name_dates_and_active(self, gw, operator):
        discount = _create(gw, operator)
        response = gw.patch(
            f"/v1/discounts/{discount['id']}",
            token=operator.token,
            json={"name": "Renamed", "validUntil": "2026-12-31T00:00:00Z", "isActive": False},
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["name"], body["validUntil"], body["isActive"], body["value"]) == (
            "Renamed",
            "2026-12-31T00:00:00.000Z",
            False,
            10,
        )

    @pytest.mark.parametrize(
        "changes, field",
        [
            ({"type": "fixed"}, "type"),
            ({"value": 50}, "value"),
            ({"bundleMinPhotos": 3}, "bundleMinPhotos"),
            ({"name": ""}, "name"),
            ({"validFrom": "2027-01-01T00:00:00Z"}, "validUntil"),  # after the stored validUntil
        ],
    )
    def test_invalid_patch_is_422_and_changes_nothing(self, gw, databases, operator, changes, field):
        discount = _create(gw, operator, validUntil="2026-12-31T00:00:00Z")
        before = _discounts(databases, operator.id)
        response = gw.patch(f"/v1/discounts/{discount['id']}", token=operator.token, json=changes)
        assert response.status_code == 422, response.text
        assert field in response.json()["errors"]["json"]
        assert _discounts(databases, operator.id) == before

    def test_delete_refused_while_in_use(self, gw, databases, operator, project):
        linked, coded, free = _create(gw, operator), _create(gw, operator), _create(gw, operator)
        assert _link(gw, operator, project["id"], linked["id"]).status_code == 204
        assert (
            gw.post(
                "/v1/promo-codes", token=operator.token, json={"code": "INUSE", "discountId": coded["id"]}
            ).status_code
            == 201
        )
        for used in (linked, coded):
            response = gw.delete(f"/v1/discounts/{used['id']}", token=operator.token)
            assert response.status_code == 409 and response.json()["code"] == 409
        assert len(_discounts(databases, operator.id)) == 3
        assert gw.delete(f"/v1/discounts/{free['id']}", token=operator.token).status_code == 204
        assert gw.delete(f"/v1/discounts/{free['id']}", token=operator.token).status_code == 404
        # Unlinked, it can go.
        assert (
            gw.delete(f"/v1/projects/{project['id']}/discounts/{linked['id']}", token=operator.token).status_code == 204
        )
        assert gw.delete(f"/v1/discounts/{linked['id']}", token=operator.token).status_code == 204
        assert [d["id"] for d in _discounts(databases, operator.id)] == [uuid.UUID(coded["id"])]

    def test_another_operators_discount_is_404(self, gw, databases, operator, other_operator):
        discount = _create(gw, operator)
        before = _discounts(databases, operator.id)
        assert (
            gw.patch(
                f"/v1/discounts/{discount['id']}", token=other_operator.token, json={"name": "Mine now"}
            ).status_code
            == 404
        )
        assert gw.delete(f"/v1/discounts/{discount['id']}", token=other_operator.token).status_code == 404
        assert gw.get("/v1/discounts", token=other_operator.token).json() == []
        assert _discounts(databases, operator.id) == before


class TestProjectLinks:
    def test_link_list_unlink(self, gw, databases, operator, project):
        first, second = _create(gw, operator, name="First"), _create(gw, operator, name="Second")
        path = f"/v1/projects/{project['id']}/discounts"
        assert gw.get(path, token=operator.token).json() == []
        for discount in (first, second, first):  # linking twice is a no-op
            response = _link(gw, operator, project["id"], discount["id"])
            assert response.status_code == 204 and response.content == b""
        listed = gw.get(path, token=operator.token)
        assert listed.status_code == 200
        assert [d["id"] for d in listed.json()] == [second["id"], first["id"]]
        assert set(listed.json()[0]) == DISCOUNT_FIELDS
        assert gw.delete(f"{path}/{first['id']}", token=operator.token).status_code == 204
        assert gw.delete(f"{path}/{first['id']}", token=operator.token).status_code == 204  # not linked: no-op
        assert [d["id"] for d in gw.get(path, token=operator.token).json()] == [second["id"]]

    def test_project_or_discount_not_mine_is_404_and_links_nothing(
        self, gw, databases, operator, other_operator, project, new_project
    ):
        mine = _create(gw, operator)
        theirs_discount = _create(gw, other_operator)
        theirs_project = new_project(other_operator)
        for project_id in (theirs_project["id"], str(uuid.uuid4())):
            assert _link(gw, operator, project_id, mine["id"]).status_code == 404
            assert gw.get(f"/v1/projects/{project_id}/discounts", token=operator.token).status_code == 404
            assert (
                gw.delete(f"/v1/projects/{project_id}/discounts/{mine['id']}", token=operator.token).status_code == 404
            )
        for discount_id in (theirs_discount["id"], str(uuid.uuid4())):
            response = _link(gw, operator, project["id"], discount_id)
            assert response.status_code == 404
            assert response.json()["errors"] == {"json": {"discountId": ["Discount not found."]}}
            assert (
                gw.delete(f"/v1/projects/{project['id']}/discounts/{discount_id}", token=operator.token).status_code
                == 404
            )
        assert _links(databases, project["id"]) == [] and _links(databases, theirs_project["id"]) == []

    def test_another_operator_sees_nothing(self, gw, databases, operator, other_operator, project):
        discount = _create(gw, operator)
        assert _link(gw, operator, project["id"], discount["id"]).status_code == 204
        path = f"/v1/projects/{project['id']}/discounts"
        assert gw.get(path, token=other_operator.token).status_code == 404
        assert gw.delete(f"{path}/{discount['id']}", token=other_operator.token).status_code == 404
        assert len(_links(databases, project["id"])) == 1

    @pytest.mark.parametrize(
        "body, field",
        [
            ({}, "discountId"),
            ({"discountId": "nope"}, "discountId"),
            ({"discountId": None}, "discountId"),
            ({"discountId": str(uuid.uuid4()), "extra": 1}, "extra"),
        ],
    )
    def test_invalid_link_is_422(self, gw, databases, operator, project, body, field):
        response = gw.post(f"/v1/projects/{project['id']}/discounts", token=operator.token, json=body)
        assert response.status_code == 422
        assert field in response.json()["errors"]["json"]
        assert _links(databases, project["id"]) == []


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/v1/discounts"),
        ("post", "/v1/discounts"),
        ("patch", f"/v1/discounts/{uuid.uuid4()}"),
        ("delete", f"/v1/discounts/{uuid.uuid4()}"),
        ("get", f"/v1/projects/{uuid.uuid4()}/discounts"),
        ("post", f"/v1/projects/{uuid.uuid4()}/discounts"),
        ("delete", f"/v1/projects/{uuid.uuid4()}/discounts/{uuid.uuid4()}"),
    ],
)
def test_roles(gw, databases, operator, photographer, method, path):
    body = {"name": "D", "type": "percentage", "value": 10, "discountId": str(uuid.uuid4())}
    assert getattr(gw, method)(path, json=body).status_code == 401
    assert getattr(gw, method)(path, token=photographer.token, json=body).status_code == 403
    assert _discounts(databases, operator.id) == []
