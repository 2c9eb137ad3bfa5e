"""Pooled connections: no ping round trip per request, yet a connection the database dropped is never handed out,
and a database that goes away mid-request costs that request a 503, then the service recovers."""

import datetime as dt
import decimal
import gc
import threading
import time
import uuid
import warnings

import pytest
from flask import Blueprint
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Integer,
    Numeric,
    String,
    Uuid,
    bindparam,
    cast,
    create_engine,
    event,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from backoffice_common.db import db
from backoffice_common.service import create_service_app


@pytest.fixture
def app(pg_admin_url, probe_settings):
    name = f"dbprobe-{uuid.uuid4().hex[:8]}"  # our connections, by application_name
    settings = probe_settings(service_name=name, database_url=pg_admin_url)
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
    app.extensions["database"].dispose()


@pytest.fixture
def statements(app):
    """Every statement Core runs, on either pool (read_one's driver path is unseen by these events)."""
    seen = []
    for engine in app.extensions["database"].engines:
        event.listen(engine, "before_cursor_execute", lambda conn, cursor, statement, *args: seen.append(statement))
    return seen


@pytest.fixture
def pings(app, monkeypatch):
    calls = []
    for engine in app.extensions["database"].engines:  # (each engine has a dialect of its own)
        original = engine.dialect.do_ping
        monkeypatch.setattr(
            engine.dialect, "do_ping", lambda connection, original=original: calls.append(1) or original(connection)
        )
    return calls


def _terminate_all(admin_url: str, application_name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        killed = connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :n"),
            {"n": application_name},
        ).all()
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


@pytest.mark.parametrize("path", ["/read", "/read-all"])
def test_reads_outside_a_session_on_a_connection_pinged_after_idling(app, pings, monkeypatch, path):
    """The ping leaves no transaction open on the driver connection (else switching to autocommit would raise)."""
    client = app.test_client()
    assert client.get(path).status_code == 200
    monkeypatch.setattr(time, "monotonic", lambda real=time.monotonic: real() + 3600)
    response = client.get(path)
    assert response.status_code == 200 and pings == [1]
    assert client.get("/transaction").json == {"alone": False}


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
    assert len(statements) == 3  # the sessions' (read_one runs on the driver connection, unseen by these events)


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


_TYPED = select(
    cast(literal("7d0f5f9e-3a43-4f65-9a37-1c1f4d8a9a10"), Uuid).label("id"),
    cast(literal("2026-04-08T12:00:01.5+02:00"), DateTime(timezone=True)).label("at"),
    cast(literal('{"a": [1, 2.5, null]}'), JSONB).label("doc"),
    cast(literal('{"b": true}'), JSON).label("plain_json"),
    cast(literal("12.50"), Numeric(10, 2)).label("amount"),
    cast(literal(3), Integer).label("n"),
    cast(literal(True), Boolean).label("yes"),
    cast(literal(None), String).label("nothing"),
    (literal(2) * bindparam("factor", type_=Integer)).label("product"),
    func.now() == func.now(),  # an anonymous label
)


def test_read_one_gives_what_core_gives(app):
    database = app.extensions["database"]
    with app.app_context():
        row = database.read_one(_TYPED, {"factor": 21})
        with database.engine.connect() as connection:
            assert row == dict(connection.execute(_TYPED, {"factor": 21}).mappings().first())
        assert row["id"] == uuid.UUID("7d0f5f9e-3a43-4f65-9a37-1c1f4d8a9a10")
        assert row["at"] == dt.datetime(2026, 4, 8, 10, 0, 1, 500000, tzinfo=dt.UTC)
        assert row["doc"] == {"a": [1, 2.5, None]} and row["plain_json"] == {"b": True}
        assert row["amount"] == decimal.Decimal("12.50") and row["n"] == 3 and row["yes"] is True
        assert row["nothing"] is None and row["product"] == 42 and row["anon_1"] is True
        assert database.read_one(_TYPED.where(literal(1) == 2), {"factor": 1}) is None


def test_read_one_with_an_expanding_list_goes_through_core(app):
    statement = (
        select(func.count().label("n"))
        .select_from(func.generate_series(1, 10).alias("g"))
        .where(literal_column("g").in_(bindparam("picked", expanding=True)))
    )
    with app.app_context():
        assert app.extensions["database"].read_one(statement, {"picked": [2, 3, 99]}) == {"n": 2}


def test_a_failing_read_is_a_500_and_leaves_the_connection_usable(app):
    database = app.extensions["database"]
    with app.app_context():
        with pytest.raises(Exception) as failure:
            database.read_one(select(literal(1) / literal(0)))
        assert type(failure.value).__module__.startswith("sqlalchemy")  # wrapped as Core wraps it
    client = app.test_client()
    assert client.get("/read").json == {"alone": True}
    assert client.get("/transaction").json == {"alone": False}


def test_read_one_prepares_its_statement_once_per_connection(app):
    database = app.extensions["database"]
    with app.app_context():
        for _ in range(3):
            assert database.read_one(_TYPED.where(literal(7) == bindparam("seven")), {"factor": 1, "seven": 7})
        statement = select(literal_column("'prepared'").label("how"), func.pg_backend_pid().label("pid"))
        first = database.read_one(statement)
        assert database.read_one(statement) == first  # the same pooled connection
    client = app.test_client()
    client.get("/read")
    with app.app_context():  # on this thread's read connection: they were all read on it
        listed = database.read_one(
            select(
                func.json_object_agg(literal_column("name"), literal_column("statement")).label("prepared")
            ).select_from(text("pg_prepared_statements"))
        )["prepared"]
    ours = {name: sql for name, sql in listed.items() if name.startswith("backoffice_read_")}
    assert any("statement_timestamp" in sql for sql in ours.values())
    assert any("'prepared'" in sql for sql in ours.values())
    assert not any("$1 * $2" in sql for sql in ours.values())  # no type for either: run as plain SQL


def test_a_prepared_read_survives_a_migration_of_its_columns(app, pg_admin_url):
    table = f"probe_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE TABLE {table} (id integer PRIMARY KEY, v integer)"))
        connection.execute(text(f"INSERT INTO {table} VALUES (1, 41)"))
    try:
        probe = (
            select(literal_column("v").label("v"))
            .select_from(text(table))
            .where(literal_column("id") == bindparam("id", type_=Integer))
        )
        database = app.extensions["database"]
        with app.app_context():
            assert database.read_one(probe, {"id": 1}) == {"v": 41}
            with admin.connect() as connection:
                connection.execute(text(f"ALTER TABLE {table} ALTER COLUMN v TYPE text USING (v + 1)::text"))
            assert database.read_one(probe, {"id": 1}) == {"v": "42"}
            assert database.read_one(probe, {"id": 2}) is None
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP TABLE {table}"))
        admin.dispose()


_BACKEND = select(func.pg_backend_pid().label("pid"))


def test_read_one_keeps_one_connection_per_thread_between_reads(app):
    database = app.extensions["database"]
    with app.app_context():
        first = database.read_one(_BACKEND)["pid"]
        assert database.reads.pool.checkedout() == 1  # kept by this thread, not back in the pool
        assert database.read_one(_BACKEND)["pid"] == first
        assert database.reads.pool.checkedout() == 1
        seen = []
        worker = threading.Thread(target=lambda: seen.append(_read_in(app, _BACKEND)))
        worker.start()
        worker.join()
        assert seen and seen[0]["pid"] != first  # another thread, a connection of its own


def _read_in(app, statement):
    with app.app_context():
        return app.extensions["database"].read_one(statement)


def test_a_thread_that_ends_gives_its_read_connection_back(app):
    database = app.extensions["database"]
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        worker = threading.Thread(target=_read_in, args=(app, _BACKEND))
        worker.start()
        worker.join()
        del worker
        gc.collect()
    assert database.reads.pool.checkedout() == 0
    assert database.reads.pool.checkedin() == 1  # given back for the next thread, not closed by the collector
    assert [str(warning.message) for warning in warned] == []


def test_a_kept_read_connection_the_database_dropped_is_replaced_before_use(app, pg_admin_url, pings):
    database = app.extensions["database"]
    with app.app_context():
        first = database.read_one(_BACKEND)["pid"]
        _terminate_all(pg_admin_url, app.name_in_pg)
        assert database.read_one(_BACKEND)["pid"] != first  # not even one 503
        assert pings == []  # seen without a round trip
        assert database.reads.pool.checkedout() == 1


def test_a_failing_read_gives_its_connection_back_and_the_next_read_takes_one(app):
    database = app.extensions["database"]
    with app.app_context():
        database.read_one(_BACKEND)
        with pytest.raises(Exception, match="division by zero"):
            database.read_one(select(literal(1) / literal(0)))
        assert database.reads.pool.checkedout() == 0
        assert database.read_one(_BACKEND)["pid"]
        assert database.reads.pool.checkedout() == 1


def test_giving_every_read_connection_back(app):
    database = app.extensions["database"]
    with app.app_context():
        database.read_one(_BACKEND)
        database.read_connections.give_back_all()
        assert database.reads.pool.checkedout() == 0
        assert database.read_one(_BACKEND)["pid"]  # the thread takes a new one


def test_reads_side_by_side_each_on_a_connection_of_its_own_in_order(app):
    database = app.extensions["database"]
    numbered = [
        (select(literal(n).label("n"), func.pg_backend_pid().label("pid"), func.pg_sleep(0.1)), None) for n in range(4)
    ]
    with app.app_context():
        answers = database.read_side_by_side(*numbered)
    assert [rows[0].n for rows in answers] == [0, 1, 2, 3]
    assert len({rows[0].pid for rows in answers}) == 4  # four connections at once (each held its own for 0.1 s)
    assert database.reads.pool.checkedout() == 0  # every one back in the pool


def test_reads_side_by_side_through_the_session_when_the_request_has_one(app):
    database = app.extensions["database"]
    numbered = [(select(literal(n).label("n"), func.pg_backend_pid().label("pid")), None) for n in range(3)]
    with app.test_request_context():
        database.session.execute(text("SELECT 1"))
        answers = database.read_side_by_side(*numbered)
    assert [rows[0].n for rows in answers] == [0, 1, 2]
    assert len({rows[0].pid for rows in answers}) == 1  # one after the other, on the session's connection


@pytest.mark.parametrize("failing_at", [0, 1])  # in the calling thread, or in one of the pool's
def test_a_failing_read_side_by_side_raises_once_every_read_has_finished(app, failing_at):
    database = app.extensions["database"]
    slow = (select(func.pg_sleep(0.2), func.pg_backend_pid()), None)
    reads = [slow, slow, slow]
    reads[failing_at] = (select(literal(1) / literal(0)), None)
    with app.app_context():
        with pytest.raises(Exception, match="division by zero") as failure:
            database.read_side_by_side(*reads)
        assert type(failure.value).__module__.startswith("sqlalchemy")  # wrapped as Core wraps it: a 500, or a 503
        assert database.reads.pool.checkedout() == 0  # the slow ones had finished and given their connections back
