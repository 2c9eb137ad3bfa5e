"""GET /v1/operators/me and the internal operator card: one prebuilt statement, the operator's own row only."""

import uuid

import pytest

from auth_service.models import Account
from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token


@pytest.fixture
def operator(client):
    response = client.post(
        "/v1/auth/register",
        json={"name": "Lumen", "email": "me@example.com", "password": "password-1", "timezone": "Europe/Paris"},
    )
    return response.json["token"]


def test_me_is_kept_while_its_row_is_unchanged(client, operator, statements):
    """The answer is kept per worker (backoffice_common.answers): made from the row once, then checked by one
    statement — its fingerprint — here, where the tests' session never commits and so never notifies (through the
    stack it is sent with none: tests/e2e/test_list_changes.py)."""
    response = client.get("/v1/operators/me", headers={"Authorization": f"Bearer {operator}"})
    assert response.status_code == 200
    assert response.json["email"] == "me@example.com" and response.json["timezone"] == "Europe/Paris"
    assert response.json["address"] is None and response.json["createdAt"].endswith("Z")
    statements.clear()
    again = client.get("/v1/operators/me", headers={"Authorization": f"Bearer {operator}"})
    assert again.json == response.json
    assert len(statements) == 1
    changed = client.patch(
        "/v1/operators/me", headers={"Authorization": f"Bearer {operator}"}, json={"timezone": "Asia/Tokyo"}
    )
    assert changed.status_code == 200
    assert client.get("/v1/operators/me", headers={"Authorization": f"Bearer {operator}"}).json["timezone"] == (
        "Asia/Tokyo"
    )


def test_me_of_an_unknown_operator_is_404(client, make_token):
    response = client.get("/v1/operators/me", headers={"Authorization": f"Bearer {make_token()}"})
    assert response.status_code == 404 and response.json["message"] == "Operator not found."


def test_a_photographer_is_no_operator(client, db_session, operator, make_token):
    me = client.get("/v1/operators/me", headers={"Authorization": f"Bearer {operator}"}).json
    photographer = Account(
        role="photographer", operator_id=uuid.UUID(me["id"]), name="P", email="p@example.com", password_hash="x"
    )
    db_session.add(photographer)
    db_session.flush()
    headers = {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'projects')}"}
    assert client.get(f"/internal/operators/{photographer.id}", headers=headers).status_code == 404


def test_operator_card(client, operator):
    me = client.get("/v1/operators/me", headers={"Authorization": f"Bearer {operator}"}).json
    headers = {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'projects')}"}
    card = client.get(f"/internal/operators/{me['id']}", headers=headers)
    assert card.json == {"id": me["id"], "name": "Lumen", "timezone": "Europe/Paris", "currency": "EUR"}
    assert client.get(f"/internal/operators/{uuid.uuid4()}", headers=headers).status_code == 404


def test_patch_answers_what_get_shows(client, operator):
    headers = {"Authorization": f"Bearer {operator}"}
    patched = client.patch(
        "/v1/operators/me",
        headers=headers,
        json={"name": "Lumen II", "locale": "fr_ca", "address": {"line1": "1 rue", "city": "Paris", "country": "FR"}},
    )
    assert patched.status_code == 200
    assert patched.json == client.get("/v1/operators/me", headers=headers).json
    assert (patched.json["name"], patched.json["locale"], patched.json["address"]["country"]) == (
        "Lumen II",
        "fr-CA",
        "FR",
    )
