"""GET/PATCH /v1/operators/me through the gateway."""

import pytest

ADDRESS = {"line1": "1 Rue de Rivoli", "city": "Paris", "postalCode": "75001", "country": "FR"}


def test_profile_has_the_contract_fields(gw, operator):
    response = gw.get("/v1/operators/me", token=operator.token)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "id",
        "name",
        "email",
        "address",
        "billingAddress",
        "currency",
        "locale",
        "timezone",
        "profilePictureUrl",
        "createdAt",
        "updatedAt",
    }
    assert body["id"] == operator.id and body["name"] == "Lumen Studio" and body["email"] == operator.email
    assert (body["currency"], body["locale"], body["timezone"]) == ("EUR", "en", "UTC")
    assert body["address"] is None and body["billingAddress"] is None
    assert body["createdAt"].endswith("Z") and len(body["createdAt"]) == 24


def test_patch_updates_and_persists(gw, operator):
    changes = {
        "name": "Lumen & Co",
        "address": ADDRESS,
        "billingAddress": {**ADDRESS, "line2": "Bât. B"},
        "currency": "CHF",
        "locale": "fr-ch",
        "timezone": "Europe/Zurich",
        "profilePictureUrl": "https://cdn.example.com/logo.png",
    }
    response = gw.patch("/v1/operators/me", token=operator.token, json=changes)
    assert response.status_code == 200
    body = gw.get("/v1/operators/me", token=operator.token).json()
    assert body["name"] == "Lumen & Co"
    assert body["address"] == ADDRESS
    assert body["billingAddress"] == {**ADDRESS, "line2": "Bât. B"}
    assert (body["currency"], body["locale"], body["timezone"]) == ("CHF", "fr-CH", "Europe/Zurich")
    assert body["profilePictureUrl"] == "https://cdn.example.com/logo.png"
    assert response.json() == body


def test_a_profile_only_change_moves_updated_at(gw, operator):
    before = gw.get("/v1/operators/me", token=operator.token).json()
    after = gw.patch("/v1/operators/me", token=operator.token, json={"currency": "USD"}).json()
    assert after["currency"] == "USD" and after["createdAt"] == before["createdAt"]
    assert after["updatedAt"] > before["updatedAt"]


def test_patch_can_clear_optional_fields(gw, operator):
    gw.patch(
        "/v1/operators/me", token=operator.token, json={"address": ADDRESS, "profilePictureUrl": "https://x.io/a.png"}
    )
    response = gw.patch("/v1/operators/me", token=operator.token, json={"address": None, "profilePictureUrl": None})
    assert response.status_code == 200
    assert response.json()["address"] is None and response.json()["profilePictureUrl"] is None


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"name": ""}, "name"),
        ({"currency": "XXY"}, "currency"),
        ({"currency": "eur"}, "currency"),
        ({"locale": "zz-QQ"}, "locale"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"profilePictureUrl": "ftp://example.com/a.png"}, "profilePictureUrl"),
        ({"profilePictureUrl": "javascript:alert(1)"}, "profilePictureUrl"),
        ({"address": {"line1": "x", "city": "y", "country": "ZZ"}}, "address"),
        ({"address": {"city": "y", "country": "FR"}}, "address"),
        ({"billingAddress": "1 Main St"}, "billingAddress"),
        ({"email": "new@example.com"}, "email"),
        ({"id": "00000000-0000-0000-0000-000000000000"}, "id"),
    ],
)
def test_invalid_patch_is_422_and_changes_nothing(gw, operator, changes, field):
    before = gw.get("/v1/operators/me", token=operator.token).json()
    response = gw.patch("/v1/operators/me", token=operator.token, json=changes)
    assert response.status_code == 422
    assert field in response.json()["errors"]["json"]
    assert gw.get("/v1/operators/me", token=operator.token).json() == before


def test_each_operator_sees_only_itself(gw, operator, other_operator):
    gw.patch("/v1/operators/me", token=other_operator.token, json={"name": "Renamed Other"})
    assert gw.get("/v1/operators/me", token=operator.token).json()["name"] == "Lumen Studio"
    assert gw.get("/v1/operators/me", token=other_operator.token).json()["id"] == other_operator.id


def test_photographer_is_forbidden(gw, photographer):
    assert gw.get("/v1/operators/me", token=photographer.token).status_code == 403
    assert gw.patch("/v1/operators/me", token=photographer.token, json={"name": "x"}).status_code == 403
