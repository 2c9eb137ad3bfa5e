"""Health checks, and a database that is down: 503 quickly, never a hang or a 500."""

import time

import pytest

from auth_service.app import create_app
from devstack import free_port


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready"}


@pytest.fixture
def app_without_database(settings_for):
    closed = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/auth"
    return create_app(settings_for(closed))


def test_database_down_is_503_everywhere(app_without_database, make_token):
    client = app_without_database.test_client()
    started = time.monotonic()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["code"] == 503
    login = client.post("/v1/auth/login", json={"email": "a@example.com", "password": "password-1"})
    assert login.status_code == 503
    assert login.json == {
        "code": 503,
        "status": "Service Unavailable",
        "message": "The database is unavailable; try again shortly.",
        "errors": {},
    }
    me = client.get("/v1/operators/me", headers={"Authorization": f"Bearer {make_token()}"})
    assert me.status_code == 503
    assert time.monotonic() - started < 10


def test_register_then_profile_via_the_app(client):
    response = client.post(
        "/v1/auth/register", json={"name": "A", "email": "unit@example.com", "password": "password-1"}
    )
    assert response.status_code == 201
    me = client.get("/v1/operators/me", headers={"Authorization": f"Bearer {response.json['token']}"})
    assert me.status_code == 200 and me.json["email"] == "unit@example.com"
