"""List answers kept while their rows are unchanged (backoffice_common.answers): exact whatever changes the rows,
one statement when nothing did, each list apart, bounded in memory, and kept only under its own snapshot."""

import uuid

import pytest
from marshmallow import fields
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, event, select, text

from backoffice_common.answers import ListAnswers, Rendered
from backoffice_common.api import Schema
from backoffice_common.db import Database, db
from backoffice_common.service import create_service_app


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
    statement = select(table.c.name, table.c["count"]).where(table.c.owner == bindparam("owner")).order_by(table.c.name)
    yield table, statement
    table.drop(engine)


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
    answers = ListAnswers(1_000_000)
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
    answers = ListAnswers(1_000_000)
    assert _answer(app, answers, statement, "a")[1] == [{"name": "x", "count": 1}]
    assert _answer(app, answers, statement, "b")[1] == [{"name": "y", "count": 2}]
    assert _answer(app, answers, statement, "a")[1] == [{"name": "x", "count": 1}]
    assert _answer(app, answers, statement, "nobody")[1] == []


def test_an_answer_that_is_no_longer_valid_is_made_again(app, items, statements):
    _, statement = items
    answers = ListAnswers(1_000_000)
    valid = [True]
    renders = []

    def render(reader):
        renders.append(1)
        return Rendered(reader.execute(statement, {"owner": "a"}).all(), still_valid=lambda: valid[0])

    with app.test_request_context():
        for expected_renders, still in ((1, True), (1, True), (2, False)):
            valid[0] = still
            answers.answer(db, "k", [statement], {"owner": "a"}, render, ITEMS)
            assert len(renders) == expected_renders


def test_bounded_in_bytes_least_recently_used_out(app, items, statements):
    table, statement = items
    with app.extensions["database"].engine.begin() as connection:  # five owners, answers of one size
        connection.execute(table.insert(), [{"owner": o, "name": o * 2, "count": 5} for o in "cde"])
        connection.execute(text(f"UPDATE {table.name} SET name = owner || owner, count = 5"))
    one = len(_answer(app, ListAnswers(1_000_000), statement, "a")[2])
    answers = ListAnswers(one * 4 + 1)  # room for four (and no single answer over a quarter)
    for owner in ("a", "b", "c", "d", "e"):
        _answer(app, answers, statement, owner)
    statements.clear()
    _answer(app, answers, statement, "a")  # the oldest: pushed out, made again
    assert len(statements) == 3
    statements.clear()
    _answer(app, answers, statement, "e")
    assert len(statements) == 1
    tiny = ListAnswers(one * 4 - 1)  # an answer over a quarter of the room is never kept
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
    answers = ListAnswers(1_000_000)

    def names():
        with app.test_request_context():
            return answers.rows(db, "by-count", by_count, {}, NAMES).get_json()

    engine = app.extensions["database"].engine
    assert names() == [{"name": "x"}, {"name": "y"}]
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {table.name} SET count = 7 WHERE name = 'x'"))
    assert names() == [{"name": "y"}, {"name": "x"}]
    with_counts = select(table.c.name, table.c["count"]).order_by(table.c.name)
    with app.test_request_context():
        assert answers.rows(db, "counts", with_counts, {}, ITEMS).get_json()[0] == {"name": "x", "count": 7}
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {table.name} SET count = NULL WHERE name = 'x'"))
    with app.test_request_context():
        assert answers.rows(db, "counts", with_counts, {}, ITEMS).get_json()[0] == {"name": "x", "count": None}
    with engine.begin() as connection:
        connection.execute(table.delete())
    assert names() == []
