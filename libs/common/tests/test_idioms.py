"""The idioms every service shares (issue 10): one field error, one constraint mapping, one compensated unit of
work, one internal-client factory, one way to reach a dependency, one clock."""

import datetime as dt
import json
import uuid

import pytest
from flask import g
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from backoffice_common.clock import utcnow
from backoffice_common.config import CommonSettings
from backoffice_common.db import UNIQUE_VIOLATION, change_elsewhere, constraint_errors, db, undo_on_rollback
from backoffice_common.errors import Conflict, ServiceUnavailable, Unprocessable, field_error, field_errors
from backoffice_common.internal import internal_client, internal_only, make_service_token
from backoffice_common.service import create_service_app, dependency, provide
from backoffice_common.testing.plugin import generate_signing_key


@pytest.fixture
def app(pg_admin_url, probe_settings):
    settings = probe_settings(service_name="idioms", database_url=pg_admin_url)
    app, _api = create_service_app(__name__, settings, title="idioms")
    return app


@pytest.fixture
def table(app):
    name = f"idiom_{uuid.uuid4().hex[:8]}"
    with app.app_context():
        with db.unit_of_work() as session:
            session.execute(text(f"CREATE TABLE {name} (email text PRIMARY KEY)"))
    yield name
    with app.app_context():
        with db.unit_of_work() as session:
            session.execute(text(f"DROP TABLE {name}"))


def test_field_error_is_the_per_field_shape():
    error = field_error("email", "Already taken.", error=Conflict)
    assert isinstance(error, Conflict) and error.status_code == 409
    assert (error.message, error.errors) == ("Already taken.", {"json": {"email": ["Already taken."]}})
    error = field_error("projectIds", "Not a UUID.", location="query", summary="Bad filter.")
    assert isinstance(error, Unprocessable)
    assert (error.message, error.errors) == ("Bad filter.", {"query": {"projectIds": ["Not a UUID."]}})


def test_field_errors_name_several_fields_at_once():
    error = field_errors({"validUntil": ["Must be after validFrom."], "percentOff": ["Must be 1 to 100."]})
    assert isinstance(error, Unprocessable) and error.message == "The request is invalid."
    assert error.errors == {"json": {"validUntil": ["Must be after validFrom."], "percentOff": ["Must be 1 to 100."]}}


def test_a_constraint_becomes_its_domain_error_and_the_session_stays_usable(app, table):
    taken = field_error("email", "Taken.", error=Conflict)
    with app.app_context():
        with db.unit_of_work() as session:
            session.execute(text(f"INSERT INTO {table} VALUES ('a@example.com')"))
            with pytest.raises(Conflict) as raised:
                with constraint_errors(session, {UNIQUE_VIOLATION: taken}):
                    session.execute(text(f"INSERT INTO {table} VALUES ('a@example.com')"))
            assert raised.value is taken
            session.execute(text(f"INSERT INTO {table} VALUES ('b@example.com')"))  # the transaction lives on
        with db.reading() as connection:
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 2


def test_an_unmapped_database_error_is_not_swallowed(app, table):
    with app.app_context():
        with pytest.raises(Exception) as raised:
            with db.unit_of_work() as session:
                with constraint_errors(session, {}):
                    session.execute(text(f"INSERT INTO {table} VALUES (NULL)"))
        assert "null value" in str(raised.value)


def test_undo_runs_newest_first_when_the_unit_of_work_does_not_commit(app, table):
    undone = []
    with app.app_context():
        with pytest.raises(ServiceUnavailable):
            with db.unit_of_work() as session:
                session.execute(text(f"INSERT INTO {table} VALUES ('c@example.com')"))
                undo_on_rollback(session, lambda: undone.append("first"), "first")
                undo_on_rollback(session, lambda: 1 / 0, "a broken undo is logged, not raised")
                undo_on_rollback(session, lambda: undone.append("second"), "second")
                raise ServiceUnavailable("the peer is down")
        assert undone == ["second", "first"]
        with db.reading() as connection:
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0


def test_undo_never_runs_after_a_commit_nor_leaks_into_the_next_unit_of_work(app, table):
    undone = []
    with app.app_context():
        with db.unit_of_work() as session:
            undo_on_rollback(session, lambda: undone.append("committed"), "committed")
        with pytest.raises(RuntimeError):
            with db.unit_of_work():
                raise RuntimeError("a later failure")
    assert undone == []


def test_a_failing_commit_runs_the_undo(app, table):
    undone = []
    with app.app_context():
        with pytest.raises(IntegrityError):
            with db.unit_of_work() as session:
                deferred = f"deferred_{table}"
                session.execute(text(f"CREATE TEMP TABLE {deferred} (x int UNIQUE DEFERRABLE INITIALLY DEFERRED)"))
                session.execute(text(f"INSERT INTO {deferred} VALUES (1), (1)"))  # fails only at COMMIT
                undo_on_rollback(session, lambda: undone.append("peer restored"), "restore")
    assert undone == ["peer restored"]


@pytest.mark.parametrize(
    "answer, undone",
    [
        (Conflict("the email is taken there"), []),  # a clean refusal changed nothing there: nothing to undo
        (ServiceUnavailable("no answer"), ["undo"]),  # it may have applied the change before the answer was lost
        (None, ["undo"]),  # applied, then our own unit of work fails
    ],
)
def test_a_change_elsewhere_is_undone_unless_cleanly_refused(app, answer, undone):
    calls = []

    def change():
        if answer is not None:
            raise answer
        return "changed"

    with app.app_context():
        with pytest.raises(RuntimeError if answer is None else type(answer)):
            with db.unit_of_work() as session:
                assert change_elsewhere(session, change, undo=lambda: calls.append("undo"), what="undo") == "changed"
                raise RuntimeError("our own failure")
    assert calls == undone


def test_dependencies_are_reached_by_type(app):
    class Storage:
        pass

    storage = Storage()
    provide(app, storage)
    with app.app_context():
        assert dependency(Storage) is storage
        assert type(dependency(CommonSettings)) is CommonSettings


class _ServiceSettings(CommonSettings):
    """A service's own settings, a subclass of the common ones as in every service."""

    join_base_url: str = "http://localhost:3000/join"


def test_internal_only_checks_service_tokens_with_the_secret_of_the_apps_own_settings(pg_admin_url):
    key, secret = generate_signing_key(), "idioms-internal-secret-" + "x" * 20
    settings = _ServiceSettings(
        app_env="test",
        service_name="idioms",
        database_url=pg_admin_url,
        internal_token_secret=secret,
        jwt_public_keys=json.dumps({key.kid: key.public_pem}),
    )
    app, _api = create_service_app(__name__, settings, title="idioms")

    @app.get("/internal/caller")
    @internal_only
    def caller():
        return {"caller": g.service_caller}

    client = app.test_client()
    signed = {"Authorization": f"Bearer {make_service_token(secret, 'commerce')}"}
    assert client.get("/internal/caller", headers=signed).json == {"caller": "commerce"}
    forged = {"Authorization": f"Bearer {make_service_token('another-secret-' + 'y' * 30, 'commerce')}"}
    assert client.get("/internal/caller", headers=forged).status_code == 401
    assert client.get("/internal/caller").status_code == 401
    with app.app_context():  # the one way to the settings, by the service's type or the common one
        assert dependency(_ServiceSettings) is settings and dependency(CommonSettings) is settings


def test_internal_client_comes_from_the_settings():
    settings = CommonSettings(
        app_env="test",
        service_name="commerce",
        projects_url="http://projects:8000/",
        internal_timeout_connect_s=0.5,
        internal_timeout_read_s=3,
    )
    client = internal_client(settings, "projects")
    assert (client.base_url, client.name, client.caller, client.timeout) == (
        "http://projects:8000",
        "projects",
        "commerce",
        (0.5, 3),
    )
    assert internal_client(settings, "auth", caller="commerce-worker").caller == "commerce-worker"


def test_the_clock_is_utc_and_aware():
    now = utcnow()
    assert now.tzinfo is dt.UTC and abs((dt.datetime.now(dt.UTC) - now).total_seconds()) < 1
