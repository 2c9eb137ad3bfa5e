"""Pooled connections: no ping round trip per request, yet a connection the database dropped is never handed out,
and a database that goes away mid-request costs that request a 503, then the service recovers."""
import json
import time
import uuid

import pytest
from flask import Blueprint
from sqlalchemy import create_engine, event, func, select, text

from backoffice_common.config import CommonSettings
from backoffice_common.db import db
from backoffice_common.service import create_service_app
from backoffice_common.testing.plugin import generate_signing_key


@pytest.fixture
def app(pg_admin_url):
    key = generate_signing_key()
    name = f"dbprobe-{uuid.uuid4().hex[:8]}"  # our connections, by application_name
    settings = CommonSettings(app_env="test", service_name=name, database_url=pg_admin_url,
                              jwt_public_keys=json.dumps({key.kid: key.public_pem}))
    app, _api = create_service_app(__name__, settings, title="probe")
    probe = Blueprint("probe", __name__)

    @probe.get("/backend")
    def backend():
        return {"pid": db.session.execute(text("SELECT pg_backend_pid()")).scalar()}

    @probe.get("/suicide")
    def suicide():  # the database goes away in the middle of this request
        db.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return {}

    # In a statement of its own (autocommit) the transaction starts with the statement; after a BEGIN, it doesn't.
    alone = select(func.now() == func.statement_timestamp(), func.pg_backend_pid())

    @probe.get("/read")
    def read():
        return {"alone": db.read_one(alone)["anon_1"]}

    @probe.get("/read-all")
    def read_all():
        return {"alone": [row[0] for row in db.read_all(alone.union_all(alone))]}

    @probe.get("/read-in-session")
    def read_in_session():
        db.session.execute(text("SET LOCAL application_name = 'mine'"))
        return {"name": db.read_one(select(func.current_setting("application_name")))["current_setting_1"]}

    @probe.get("/transaction")
    def transaction():
        with db.unit_of_work() as session:
            return {"alone": session.execute(alone).scalar()}

    @probe.get("/read-suicide")
    def read_suicide():
        db.read_one(select(func.pg_terminate_backend(func.pg_backend_pid())))
        return {}

    app.register_blueprint(probe)
    app.name_in_pg = name
    yield app
    app.extensions["database"].engine.dispose()


@pytest.fixture
def statements(app):
    seen = []
    event.listen(app.extensions["database"].engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *args: seen.append(statement))
    return seen


@pytest.fixture
def pings(app, monkeypatch):
    dialect = app.extensions["database"].engine.dialect
    calls = []
    original = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda connection: calls.append(1) or original(connection))
    return calls


def _terminate_all(admin_url: str, application_name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        killed = connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                         "WHERE application_name = :n"), {"n": application_name}).all()
    admin.dispose()
    assert killed
    time.sleep(0.2)  # the backends' goodbye reaches our sockets


def test_one_round_trip_per_request_no_ping(app, statements, pings):
    client = app.test_client()
    for _ in range(5):
        assert client.get("/backend").status_code == 200
    assert pings == []
    assert [s for s in statements if "SELECT 1" in s] == []


def test_a_connection_the_database_dropped_is_replaced_before_use(app, pg_admin_url, pings):
    client = app.test_client()
    first = client.get("/backend").json["pid"]
    assert client.get("/backend").json["pid"] == first  # pooled
    _terminate_all(pg_admin_url, app.name_in_pg)  # e.g. a database restart while the service was idle
    response = client.get("/backend")
    assert response.status_code == 200  # not even one 503
    assert response.json["pid"] != first
    assert pings == []  # seen without a round trip


def test_a_connection_idle_too_long_is_pinged(app, pings, monkeypatch):
    client = app.test_client()
    client.get("/backend")
    client.get("/backend")
    assert pings == []
    monkeypatch.setattr(time, "monotonic", lambda real=time.monotonic: real() + 3600)
    assert client.get("/backend").status_code == 200
    assert pings == [1]


def test_the_database_going_away_mid_request_is_one_503_then_recovery(app):
    client = app.test_client()
    assert client.get("/backend").status_code == 200
    response = client.get("/suicide")
    assert response.status_code == 503 and response.json["code"] == 503
    assert client.get("/backend").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_read_one_is_one_statement_outside_any_transaction(app, statements):
    client = app.test_client()
    for _ in range(3):  # one pooled connection, taking turns with sessions
        assert client.get("/read").json == {"alone": True}
        assert client.get("/transaction").json == {"alone": False}  # the connection is transactional again
    assert len([s for s in statements if "statement_timestamp" in s]) == 6
    assert len(statements) == 6


def test_read_all_is_one_statement_outside_any_transaction(app, statements):
    client = app.test_client()
    assert client.get("/read-all").json == {"alone": [True, True]}
    assert client.get("/transaction").json == {"alone": False}
    assert len(statements) == 2


def test_read_one_inside_a_session_reads_through_it(app):
    assert app.test_client().get("/read-in-session").json == {"name": "mine"}


def test_read_one_when_the_database_goes_away_is_one_503_then_recovery(app):
    client = app.test_client()
    assert client.get("/read").status_code == 200
    response = client.get("/read-suicide")
    assert response.status_code == 503 and response.json["code"] == 503
    assert client.get("/read").json == {"alone": True}
    assert client.get("/transaction").json == {"alone": False}
