"""List answers kept while their rows are unchanged (backoffice_common.answers): exact whatever changes the rows,
one statement when nothing did, each list apart, bounded in memory, and kept only under its own snapshot.

The first tests check answers by their fingerprint alone (``listen=False``: what every request does while a worker
can't be sure it hears the database's list changes); the last ones, answers sent with no statement while the
worker hears of no change (backoffice_common.list_changes), and what takes that trust away."""

import time
import uuid

import pytest
from marshmallow import fields
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, event, make_url, select, text

from backoffice_common.answers import KeptAnswers, Rendered
from backoffice_common.api import Schema
from backoffice_common.db import Database, db
from backoffice_common.list_changes import drop_list_changes_sql, notify_list_changes_sql
from backoffice_common.service import create_service_app, dependency


class ItemSchema(Schema):
    name = fields.String()
    count = fields.Integer()


ITEMS = ItemSchema(many=True)


@pytest.fixture
def app(pg_admin_url, probe_settings):
    settings = probe_settings(service_name="answers", database_url=pg_admin_url)
    app, _api = create_service_app(__name__, settings, title="answers")
    return app


@pytest.fixture
def items(app):
    """A table of (owner, name, count) and the statement of one owner's items, built once as the routes' are."""
    name = f"answers_{uuid.uuid4().hex[:8]}"
    table = Table(
        name, MetaData(), Column("owner", String), Column("name", String, primary_key=True), Column("count", Integer)
    )
    engine = app.extensions["database"].engine
    table.create(engine)
    with engine.begin() as connection:
        connection.execute(
            table.insert(), [{"owner": "a", "name": "x", "count": 1}, {"owner": "b", "name": "y", "count": 2}]
        )
        # As a service's migration does for its lists' tables: the list "items", each owner an operator.
        connection.execute(text(notify_list_changes_sql(name, ["items"], operator="c.owner")))
    statement = select(table.c.name, table.c["count"]).where(table.c.owner == bindparam("owner")).order_by(table.c.name)
    yield table, statement
    table.drop(engine)
    with engine.begin() as connection:
        connection.execute(text(drop_list_changes_sql(name)))


@pytest.fixture
def statements(app, monkeypatch):
    """The statements an answer runs: Core's, on either pool, and read_one's (its driver path is unseen by Core's
    events)."""
    seen = []
    database = app.extensions["database"]
    listener = lambda *args: seen.append(args[2])  # noqa: E731 (a listener for the test's length)
    for engine in database.engines:
        event.listen(engine, "before_cursor_execute", listener)
    read_one = Database.read_one
    monkeypatch.setattr(
        Database,
        "read_one",
        lambda self, statement, params=None: seen.append(statement) or read_one(self, statement, params),
    )
    yield seen
    for engine in database.engines:
        event.remove(engine, "before_cursor_execute", listener)


def _answer(app, answers, statement, owner):
    with app.test_request_context():
        response = answers.rows(db, ("items", owner), statement, {"owner": owner}, ITEMS)
        return response.status_code, response.get_json(), response.get_data()


def test_kept_while_unchanged_then_exact_after_any_change(app, items, statements):
    table, statement = items
    answers = KeptAnswers(1_000_000, listen=False)
    first = _answer(app, answers, statement, "a")
    assert first[:2] == (200, [{"name": "x", "count": 1}])
    statements.clear()
    assert _answer(app, answers, statement, "a") == first
    assert len(statements) == 1  # the fingerprint alone
    # A change made behind the app's back (another worker, a rollup, a hand-run UPDATE) shows at once.
    with app.extensions["database"].engine.begin() as connection:
        connection.execute(text(f"UPDATE {table.name} SET count = 3 WHERE name = 'x'"))
    assert _answer(app, answers, statement, "a")[:2] == (200, [{"name": "x", "count": 3}])
    with app.extensions["database"].engine.begin() as connection:
        connection.execute(table.insert(), [{"owner": "a", "name": "w", "count": 0}])
    assert _answer(app, answers, statement, "a")[1] == [{"name": "w", "count": 0}, {"name": "x", "count": 3}]
    with app.extensions["database"].engine.begin() as connection:
        connection.execute(table.delete().where(table.c.name == "w"))
    assert _answer(app, answers, statement, "a")[1] == [{"name": "x", "count": 3}]


def test_each_key_its_own_answer(app, items):
    _, statement = items
    answers = KeptAnswers(1_000_000, listen=False)
    assert _answer(app, answers, statement, "a")[1] == [{"name": "x", "count": 1}]
    assert _answer(app, answers, statement, "b")[1] == [{"name": "y", "count": 2}]
    assert _answer(app, answers, statement, "a")[1] == [{"name": "x", "count": 1}]
    assert _answer(app, answers, statement, "nobody")[1] == []


def test_an_answer_that_is_no_longer_valid_is_made_again(app, items, statements):
    _, statement = items
    answers = KeptAnswers(1_000_000, listen=False)
    valid = [True]
    renders = []

    def render(reader):
        renders.append(1)
        return Rendered(reader.execute(statement, {"owner": "a"}).all(), still_valid=lambda: valid[0])

    with app.test_request_context():
        for expected_renders, still in ((1, True), (1, True), (2, False)):
            valid[0] = still
            answers.answer(db, ("k", "a"), [statement], {"owner": "a"}, render, ITEMS)
            assert len(renders) == expected_renders


def test_bounded_in_bytes_least_recently_used_out(app, items, statements):
    table, statement = items
    with app.extensions["database"].engine.begin() as connection:  # five owners, answers of one size
        connection.execute(table.insert(), [{"owner": o, "name": o * 2, "count": 5} for o in "cde"])
        connection.execute(text(f"UPDATE {table.name} SET name = owner || owner, count = 5"))
    one = len(_answer(app, KeptAnswers(1_000_000, listen=False), statement, "a")[2])
    answers = KeptAnswers(one * 4 + 1, listen=False)  # room for four (and no single answer over a quarter)
    for owner in ("a", "b", "c", "d", "e"):
        _answer(app, answers, statement, owner)
    statements.clear()
    _answer(app, answers, statement, "a")  # the oldest: pushed out, made again
    assert len(statements) == 3
    statements.clear()
    _answer(app, answers, statement, "e")
    assert len(statements) == 1
    tiny = KeptAnswers(one * 4 - 1, listen=False)  # an answer over a quarter of the room is never kept
    _answer(app, tiny, statement, "a")
    statements.clear()
    _answer(app, tiny, statement, "a")
    assert len(statements) == 3


def test_a_snapshot_sees_one_moment(app, items):
    """What keeps a body under the right fingerprint: a miss reads both in one snapshot."""
    table, statement = items
    engine = app.extensions["database"].engine
    with app.app_context(), db.snapshot() as reader:
        before = reader.execute(statement, {"owner": "a"}).all()
        with engine.begin() as connection:
            connection.execute(text(f"UPDATE {table.name} SET count = 9 WHERE name = 'x'"))
        assert reader.execute(statement, {"owner": "a"}).all() == before
    with app.app_context(), db.snapshot() as reader:
        assert reader.execute(statement, {"owner": "a"}).all() == [("x", 9)]


NAMES = ItemSchema(many=True, only=("name",))


def test_an_order_or_a_null_changing_alone_shows_at_once(app, items):
    """The fingerprint hashes the rows in the statement's order and every value, NULL included: rows that only
    swap places (ordered by a column the answer doesn't show), or a value becoming NULL, are a new answer."""
    table, _ = items
    by_count = select(table.c.name).order_by(table.c["count"], table.c.name)
    answers = KeptAnswers(1_000_000, listen=False)

    def names():
        with app.test_request_context():
            return answers.rows(db, ("by-count", None), by_count, {}, NAMES).get_json()

    engine = app.extensions["database"].engine
    assert names() == [{"name": "x"}, {"name": "y"}]
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {table.name} SET count = 7 WHERE name = 'x'"))
    assert names() == [{"name": "y"}, {"name": "x"}]
    with_counts = select(table.c.name, table.c["count"]).order_by(table.c.name)
    with app.test_request_context():
        assert answers.rows(db, ("counts", None), with_counts, {}, ITEMS).get_json()[0] == {"name": "x", "count": 7}
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {table.name} SET count = NULL WHERE name = 'x'"))
    with app.test_request_context():
        assert answers.rows(db, ("counts", None), with_counts, {}, ITEMS).get_json()[0] == {"name": "x", "count": None}
    with engine.begin() as connection:
        connection.execute(table.delete())
    assert names() == []


# -- answers sent while the worker hears of no change -------------------------------------------------------------


@pytest.fixture
def listening(app):
    """A KeptAnswers whose worker hears the list changes, connected (its heartbeat quick, for the test's length)."""
    changes = app.extensions["database"].list_changes
    changes.heartbeat_s = 0.2
    assert changes.wait_until_listening()
    yield KeptAnswers(1_000_000)
    app.extensions["database"].dispose()


def _change(app, sql):
    """A change made behind the app's back (another worker, a hand-run UPDATE), then heard: this worker's next
    request arrives after it committed (PostgreSQL delivers a notification within microseconds of the COMMIT, but
    not before the COMMIT returns, and this test's next request comes sooner than any client's could)."""
    with app.extensions["database"].engine.begin() as connection:
        connection.execute(text(sql))
    app.extensions["database"].list_changes.sync()


def test_sent_with_no_statement_while_nothing_is_heard_then_exact_after_any_change(app, items, statements, listening):
    table, statement = items
    first = _answer(app, listening, statement, "a")
    assert first[:2] == (200, [{"name": "x", "count": 1}])
    statements.clear()
    for _ in range(3):
        assert _answer(app, listening, statement, "a") == first
    assert statements == []  # no round trip at all
    # Any write, however made, is heard: the next answer is exact (a fingerprint, then the render).
    for sql, expected in (
        (f"UPDATE {table.name} SET count = 3 WHERE name = 'x'", [{"name": "x", "count": 3}]),
        (f"INSERT INTO {table.name} VALUES ('a', 'w', 0)", [{"name": "w", "count": 0}, {"name": "x", "count": 3}]),
        (f"DELETE FROM {table.name} WHERE name = 'w'", [{"name": "x", "count": 3}]),
        (f"TRUNCATE {table.name}", []),
    ):
        _change(app, sql)
        statements.clear()
        assert _answer(app, listening, statement, "a")[:2] == (200, expected)
        assert len(statements) == 3
        statements.clear()
        assert _answer(app, listening, statement, "a")[:2] == (200, expected)
        assert statements == []


def test_a_change_is_heard_only_by_its_own_operators_answers(app, items, statements, listening):
    table, statement = items
    _answer(app, listening, statement, "a")
    _answer(app, listening, statement, "b")
    _change(app, f"UPDATE {table.name} SET count = 5 WHERE owner = 'b'")
    statements.clear()
    assert _answer(app, listening, statement, "a")[1] == [{"name": "x", "count": 1}]
    assert statements == []
    assert _answer(app, listening, statement, "b")[1] == [{"name": "y", "count": 5}]
    # A change that leaves the rows as they were costs one statement, not a render.
    _change(app, f"UPDATE {table.name} SET count = count WHERE owner = 'a'")
    statements.clear()
    assert _answer(app, listening, statement, "a")[1] == [{"name": "x", "count": 1}]
    assert len(statements) == 1


def test_a_rolled_back_change_is_not_heard(app, items, statements, listening):
    table, statement = items
    _answer(app, listening, statement, "a")
    with app.extensions["database"].engine.connect() as connection:
        connection.execute(text(f"UPDATE {table.name} SET count = 8 WHERE owner = 'a'"))
        connection.rollback()
    app.extensions["database"].list_changes.sync()
    statements.clear()
    assert _answer(app, listening, statement, "a")[1] == [{"name": "x", "count": 1}]
    assert statements == []


def test_a_change_while_the_rows_are_read_is_not_missed(app, items, listening):
    """The mark is taken before the rows are read: a change committed after the snapshot, while the answer is
    being made, leaves the kept answer untrusted rather than trusted under the old rows."""
    table, statement = items
    once = []

    def render(reader):
        rows = reader.execute(statement, {"owner": "a"}).all()
        if not once:
            once.append(1)
            _change(app, f"UPDATE {table.name} SET count = 4 WHERE owner = 'a'")
        return Rendered(rows)

    with app.test_request_context():
        made = listening.answer(db, ("items", "a"), [statement], {"owner": "a"}, render, ITEMS)
        assert made.get_json() == [{"name": "x", "count": 1}]  # the snapshot's rows
        again = listening.answer(db, ("items", "a"), [statement], {"owner": "a"}, render, ITEMS)
        assert again.get_json() == [{"name": "x", "count": 4}]


def test_a_lost_connection_is_no_longer_trusted_until_heard_again(app, items, statements, listening):
    table, statement = items
    _answer(app, listening, statement, "a")
    statements.clear()
    # The database ends the listening session (a restart, a failover, an administrator) ...
    engine = app.extensions["database"].engine
    with engine.begin() as connection:
        ended = connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'answers-list-changes'"
            )
        ).all()
    assert ended and all(done for (done,) in ended)
    # ... and a change made meanwhile, heard by nobody, still shows: the answer is checked by its fingerprint.
    _change(app, f"UPDATE {table.name} SET count = 6 WHERE owner = 'a'")
    assert _answer(app, listening, statement, "a")[1] == [{"name": "x", "count": 6}]
    assert statements  # checked
    assert app.extensions["database"].list_changes.wait_until_listening()  # connected again: a new generation
    statements.clear()
    assert _answer(app, listening, statement, "a")[1] == [{"name": "x", "count": 6}]
    assert len(statements) == 1  # an older generation's mark: checked once, then trusted again
    statements.clear()
    assert _answer(app, listening, statement, "a")[1] == [{"name": "x", "count": 6}]
    assert statements == []


def test_a_quiet_server_is_still_trusted_through_heartbeats(app, items, statements, listening):
    _, statement = items
    _answer(app, listening, statement, "a")
    time.sleep(1.0)  # five heartbeats, no notification
    statements.clear()
    _answer(app, listening, statement, "a")
    assert statements == []


def test_never_without_a_check_inside_a_session(app, items, statements, listening):
    """Tests bind sessions to a transaction that never commits, so never notifies: reads in a session are always
    checked."""
    table, statement = items
    _answer(app, listening, statement, "a")
    with app.test_request_context():
        session = db.session
        session.execute(text(f"UPDATE {table.name} SET count = 2 WHERE owner = 'a'"))
        answer = listening.rows(db, ("items", "a"), statement, {"owner": "a"}, ITEMS)
        assert answer.get_json() == [{"name": "x", "count": 2}]
        session.rollback()


def test_listening_can_be_turned_off(pg_admin_url, probe_settings):
    """LIST_ANSWERS_LISTEN=false (behind a transaction-mode pooler): every kept answer is checked by its fingerprint."""
    settings = probe_settings(service_name="answers", database_url=pg_admin_url, list_answers_listen=False)
    app, _api = create_service_app(__name__, settings, title="answers")
    with app.app_context():
        assert dependency(KeptAnswers).listen is False
    settings = probe_settings(service_name="answers", database_url=pg_admin_url)
    app, _api = create_service_app(__name__, settings, title="answers")
    with app.app_context():
        assert dependency(KeptAnswers).listen is True


def test_the_listening_connection_can_have_its_own_url(pg_admin_url, probe_settings):
    """LIST_CHANGES_DATABASE_URL: PostgreSQL itself, where DATABASE_URL goes through a transaction-mode pooler. One
    that reaches no server leaves every answer checked by its fingerprint; the right one is listened on."""
    nowhere = make_url(pg_admin_url).set(port=1).render_as_string(hide_password=False)  # nothing listens on port 1
    for url, heard in ((nowhere, False), (pg_admin_url, True)):
        settings = probe_settings(service_name="answers", database_url=pg_admin_url, list_changes_database_url=url)
        app, _api = create_service_app(__name__, settings, title="answers")
        database = app.extensions["database"]
        try:
            assert database.list_changes.wait_until_listening(timeout_s=1.0) is heard
        finally:
            database.dispose()
