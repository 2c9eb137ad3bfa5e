"""The platform feed on auth (design §9): reached directly with a service token, never through the gateway."""

import uuid

import pytest
import requests

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import InternalClient, make_service_token
from projects_service.clients.auth import AuthClient


@pytest.fixture
def auth_url(stack):
    return stack.service_url("auth")


def _headers(secret=DEV_INTERNAL_SECRET, **kw):
    return {"Authorization": f"Bearer {make_service_token(secret, 'participant-app', **kw)}"}


def test_participant_signup_is_idempotent_on_email(auth_url):
    email = f"guest-{uuid.uuid4().hex[:8]}@example.com"
    first = requests.post(
        f"{auth_url}/internal/participants",
        headers=_headers(),
        json={"email": f" {email.upper()} ", "name": "Alice"},
        timeout=10,
    )
    assert first.status_code == 201
    assert set(first.json()) == {"id", "email", "name"} and first.json()["email"] == email
    second = requests.post(
        f"{auth_url}/internal/participants",
        headers=_headers(),
        json={"email": email, "name": "Alice Again"},
        timeout=10,
    )
    assert second.status_code == 200
    assert second.json() == first.json()


def test_participants_cannot_log_in_to_the_back_office(gw, auth_url):
    email = f"guest-{uuid.uuid4().hex[:8]}@example.com"
    requests.post(
        f"{auth_url}/internal/participants", headers=_headers(), json={"email": email, "name": "A"}, timeout=10
    )
    assert gw.post("/v1/auth/login", json={"email": email, "password": "whatever-1"}).status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer garbage"},
        "wrong secret",
        "too long lived",
    ],
)
def test_internal_routes_need_a_service_token(auth_url, headers):
    if headers == "wrong secret":
        headers = _headers(secret="another-secret-another-secret-another-secret")
    elif headers == "too long lived":
        headers = _headers(ttl_s=3600)
    response = requests.post(
        f"{auth_url}/internal/participants", headers=headers, json={"email": "a@example.com", "name": "A"}, timeout=10
    )
    assert response.status_code == 401
    assert response.json()["code"] == 401


def test_an_access_token_is_not_a_service_token(auth_url, operator):
    response = requests.post(
        f"{auth_url}/internal/participants",
        headers=operator.headers,
        json={"email": "a@example.com", "name": "A"},
        timeout=10,
    )
    assert response.status_code == 401


def test_invalid_participant_is_422(auth_url):
    response = requests.post(
        f"{auth_url}/internal/participants", headers=_headers(), json={"email": "nope"}, timeout=10
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]["json"]) == {"email", "name"}


def test_projects_looks_up_long_invite_lists_in_batches(auth_url):
    """projects' client splits lists longer than auth's per-call cap; the answer is the same as one call."""
    emails = [f"lookup-{uuid.uuid4().hex[:8]}@example.com" for _ in range(5)]
    for email in emails[1::2]:
        assert (
            requests.post(
                f"{auth_url}/internal/participants",
                headers=_headers(),
                json={"email": email, "name": "Guest"},
                timeout=10,
            ).status_code
            == 201
        )
    client = AuthClient(
        InternalClient(auth_url, name="auth", secret=DEV_INTERNAL_SECRET, caller="test"), lookup_batch=2
    )
    assert client.registered_emails(emails) == set(emails[1::2])
    assert client.registered_emails([]) == set()
