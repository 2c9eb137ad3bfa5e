"""What create_service_app sets up for every request, at the least cost."""

import pytest
from flask import session

from backoffice_common.service import create_service_app


@pytest.fixture(scope="module")
def app(probe_settings):
    settings = probe_settings()
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


def test_a_query_schema_class_is_made_an_instance_once_not_per_request(probe_settings):
    """webargs instantiates a schema class on every request; our Blueprint hands it an instance made once."""
    import marshmallow as ma
    from flask.views import MethodView

    from backoffice_common.api import Blueprint, Schema

    made = []

    class PageArgs(Schema):
        page = ma.fields.Integer(load_default=1)

        def __init__(self, *args, **kwargs):
            made.append(1)
            super().__init__(*args, **kwargs)

    settings = probe_settings()
    app, api = create_service_app(__name__, settings, title="probe")
    blp = Blueprint("pages", __name__, url_prefix="/pages")

    @blp.route("")
    class Pages(MethodView):
        @blp.arguments(PageArgs, location="query")
        def get(self, args):
            return {"page": args["page"]}

    api.register_blueprint(blp)
    client = app.test_client()
    made_at_start = len(made)
    assert client.get("/pages?page=3").json == {"page": 3}
    assert client.get("/pages").json == {"page": 1}
    assert client.get("/pages?page=x").status_code == 422
    assert len(made) == made_at_start  # none per request
    assert api.spec.to_dict()["paths"]["/pages"]["get"]["parameters"][0]["name"] == "page"


def test_whether_a_view_is_a_coroutine_function_is_asked_once(app, monkeypatch):
    import inspect

    import flask.app

    asked = []
    real = inspect.iscoroutinefunction
    spy = lambda func: asked.append(func) or real(func)  # noqa: E731
    monkeypatch.setattr(inspect, "iscoroutinefunction", spy)
    monkeypatch.setattr(flask.app, "iscoroutinefunction", spy)  # (what Flask's own ensure_sync asks)
    client = app.test_client()
    client.get("/peek")
    after_first = len(asked)
    for _ in range(3):
        assert client.get("/peek").json == {"user": None}
    assert len(asked) == after_first


def test_an_unhashable_callable_is_still_made_sync(app):
    class Handler(dict):  # a dict subclass: unhashable, yet callable
        def __call__(self):
            return "handled"

    handler = Handler()
    assert app.ensure_sync(handler) is handler


def test_functions_made_per_request_are_not_kept(app):
    """copy_current_request_context (analytics' AtOnce) passes ensure_sync a new closure every request: the kept
    answers must not grow with them."""
    import gc

    from flask import copy_current_request_context

    with app.test_request_context():
        for _ in range(50):
            copy_current_request_context(lambda: None)()
    gc.collect()
    assert len(app._coroutine_functions) < 10
    assert app.ensure_sync(print) is print  # a builtin has no weak reference: asked each time
