"""What create_service_app sets up for every request, at the least cost."""

import json

import pytest
from flask import session

from backoffice_common.config import CommonSettings
from backoffice_common.service import create_service_app
from backoffice_common.testing.plugin import generate_signing_key


@pytest.fixture(scope="module")
def app():
    key = generate_signing_key()
    settings = CommonSettings(
        app_env="test",
        service_name="probe",
        jwt_public_keys=json.dumps({key.kid: key.public_pem}),
        database_url="postgresql+psycopg2://postgres@127.0.0.1:9/none",
    )
    app, _api = create_service_app(__name__, settings, title="probe")
    seen = []

    @app.get("/peek")
    def peek():
        seen.append(session._get_current_object())
        return {"user": session.get("user")}

    @app.get("/write")
    def write():
        session["user"] = "mallory"
        return {}

    app.seen = seen
    return app


def test_no_cookie_session_one_shared_read_only_object(app):
    client = app.test_client()
    assert client.get("/peek").json == {"user": None}
    assert client.get("/peek").json == {"user": None}
    assert app.seen[0] is app.seen[1]
    response = client.get("/write")
    assert response.status_code == 500 and "Set-Cookie" not in response.headers
    assert client.get("/peek").json == {"user": None}
