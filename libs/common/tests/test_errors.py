"""The one error shape, from every kind of failure (design §3)."""

import marshmallow as ma
import pytest
from flask.views import MethodView

from backoffice_common.api import Blueprint, Schema, UtcDateTime
from backoffice_common.errors import Conflict
from backoffice_common.service import create_service_app


class ThingSchema(Schema):
    name = ma.fields.String(required=True)
    starts_at = UtcDateTime()


@pytest.fixture(scope="module")
def client(probe_settings):
    settings = probe_settings()
    app, api = create_service_app(__name__, settings, title="probe")
    blp = Blueprint("things", __name__, url_prefix="/things")

    @blp.route("")
    class Things(MethodView):
        @blp.arguments(ThingSchema)
        @blp.response(201, ThingSchema)
        def post(self, body):
            if body["name"] == "boom":
                raise RuntimeError("secret internals")
            if body["name"] == "taken":
                raise Conflict("That name is taken.")
            return body

    api.register_blueprint(blp)
    return app.test_client()


def test_any_unicode_text_postgresql_can_store_is_accepted(client):
    name = "Zoë 摄影 \U0001f4f7 \u200b tab\t"  # an astral character is a surrogate *pair* in JSON: fine
    response = client.post("/things", data='{"name": "Zo\\u00eb \\ud83d\\udcf7"}', content_type="application/json")
    assert response.status_code == 201 and response.json["name"] == "Zoë \U0001f4f7"
    assert client.post("/things", json={"name": name}).json["name"] == name


def test_success_uses_camel_case_and_utc_millis(client):
    response = client.post("/things", json={"name": "a", "startsAt": "2026-04-08T14:00:00.123456+02:00"})
    assert response.status_code == 201
    assert response.json == {"name": "a", "startsAt": "2026-04-08T12:00:00.123Z"}


@pytest.mark.parametrize(
    "kwargs, code, message, errors",
    [
        (
            {"data": "{oops", "content_type": "application/json"},
            400,
            "The request body is not valid JSON.",
            {"json": ["Invalid JSON body."]},
        ),
        ({"json": {"name": "a", "extra": 1}}, 422, "The request is invalid.", {"json": {"extra": ["Unknown field."]}}),
        (
            {"json": {"name": "a", "startsAt": "2026-04-08T14:00:00"}},
            422,
            "The request is invalid.",
            {"json": {"startsAt": ["Not a valid aware datetime."]}},
        ),
        ({"json": {"name": "taken"}}, 409, "That name is taken.", {}),
        # PostgreSQL text cannot hold these; found by fuzzing: they were a 500 once they reached the database
        (
            {"data": '{"name": "a\\u0000b"}', "content_type": "application/json"},
            422,
            "The request is invalid.",
            {"json": {"name": ["Must not contain NUL or unpaired surrogate characters."]}},
        ),
        (
            {"data": '{"name": "a\\ud800b"}', "content_type": "application/json"},
            422,
            "The request is invalid.",
            {"json": {"name": ["Must not contain NUL or unpaired surrogate characters."]}},
        ),
        ({"json": {"name": "boom"}}, 500, "Internal server error.", {}),
    ],
)
def test_failures_share_one_shape(client, kwargs, code, message, errors):
    response = client.post("/things", **kwargs)
    assert response.status_code == code
    assert response.json["code"] == code and response.json["message"] == message
    assert response.json["errors"] == errors
    assert set(response.json) == {"code", "status", "message", "errors"}
    assert "secret internals" not in response.get_data(as_text=True)


def test_unknown_route_and_method(client):
    assert client.get("/nowhere").json["code"] == 404
    response = client.delete("/things")
    assert response.status_code == 405 and response.json["code"] == 405
    assert "POST" in response.headers["Allow"]


def test_request_id_is_echoed_or_made(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 32
