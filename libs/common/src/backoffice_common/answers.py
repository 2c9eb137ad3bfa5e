"""Answers (the lists, and the operator's profile) kept in memory while the rows they were made from are unchanged.

A list route spent its time in Python — rows built, dumped, encoded — rather than in PostgreSQL (issue 8's
profile: 50 projects took 3.3 ms in-process, the query 0.9 ms of it). Each worker keeps the last JSON body of
each list it answered, with a fingerprint of the rows it was made from: hashes of the rows' values, computed by
PostgreSQL. A request then asks only for the fingerprint — one statement, one short string back to Python — and
is answered from memory when it matches.

The fingerprint is of the very rows the answer shows, so any change shows at once, however it was made (another
worker, a rollup, a migration, a hand-run UPDATE): there is nothing to invalidate and no write path that could
forget to. A body is kept only under the fingerprint of the snapshot it was read in (REPEATABLE READ for the
two statements of a miss), so a change landing between them can't leave a body under the wrong fingerprint.

While the worker hears the database's list changes (backoffice_common.list_changes), a kept answer is sent with
no statement at all as long as no change of its list and operator has been heard since its rows were read; the
fingerprint is then the check of an answer whose list did change (a needless miss costs one statement, not a
render) and of every answer while the worker can't be sure it hears everything. Never inside a session: tests bind
their sessions to a transaction that never commits, so never notifies.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from flask import Response, current_app
from sqlalchemy import Select, String, func, literal_column, select

from .list_changes import ListChanges, Mark, scope_of

JSON = "application/json"


@dataclass(frozen=True)
class Rendered:
    """What a list's ``render`` gives back: the object its schema dumps, and — when the answer also depends on
    something outside the fingerprinted rows (project names another service keeps) — whether a kept copy is still
    right."""

    value: object
    still_valid: Callable[[], bool] | None = None


@dataclass(frozen=True)
class _Kept:
    fingerprint: str
    body: bytes
    still_valid: Callable[[], bool] | None
    mark: Mark | None  # taken before the rows were read (None: checked by fingerprint every time)


def fingerprint_of(statements: Sequence[Select]) -> Select:
    """One statement giving, as ``fingerprint``, per statement: how many rows it returns and an md5 of the rows'
    hashes in the statement's own order, each row hashed value by value (``hash_record_extended``). The statements
    keep their bound parameters. (PostgreSQL ≥ 14; every selected column needs an extended hash function: jsonb
    has one, json not.)

    Hashing the values costs half what an md5 of the rows' text did: no value is turned into text (time stamps,
    UUIDs), and nothing is sorted again — the rows come in the statement's own order (a list's ORDER BY is total:
    it ends with the id), so rows that only swap places are a new fingerprint too. Rows in another order could only
    give another fingerprint for the same rows: a needless miss, never a stale answer.

    What a value hash can't tell apart, the fingerprint can't either: values equal under their type's equality but
    shown differently (numeric 1.0 and 1.00: no list shows a numeric), and a change confined to one 64-bit column
    (bigint, timestamptz), whose value PostgreSQL folds to 32 bits before hashing it, goes unseen with odds of
    about one in four billion — until the list's next change. The rows' hashes are combined by md5, not by
    ``hash_array_extended``, which would fold each row's hash to 32 bits as well."""
    parts = []
    for number, statement in enumerate(statements):
        rows = f"fingerprinted_{number}"
        digest = literal_column(
            f"count(*)::text || ':' || coalesce(md5(string_agg(hash_record_extended({rows}, 0)::text, ',')), '')",
            String,
        )
        parts.append(select(digest).select_from(statement.subquery(rows)).scalar_subquery())
    return select(func.concat_ws(literal_column("'|'"), *parts).label("fingerprint"))


class KeptAnswers:
    """A worker's kept answers — the lists, and one-row answers kept the same way (the operator's profile) — least
    recently used first out beyond ``max_bytes``."""

    def __init__(self, max_bytes: int, *, listen: bool = True):
        self.max_bytes = max_bytes
        self._kept: OrderedDict[tuple, _Kept] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # gthread workers: several requests at once
        self._fingerprints: dict[tuple[Select, ...], Select] = {}
        self.listen = listen  # False: every answer checked by its fingerprint

    def answer(
        self,
        database,
        key: tuple,
        statements: Sequence[Select],
        params: dict,
        render: Callable[[Any], Rendered],
        schema,
    ) -> Response:
        """The list's answer: kept, when the fingerprint of ``statements`` (run with ``params``) matches; else
        ``render(connection)`` dumped with ``schema`` as flask-smorest would, and kept.

        ``key`` is ``(list, operator_id, *what else chooses its rows)``: the list's name as its tables' triggers
        notify it (backoffice_common.list_changes), the operator, then the filters. ``statements`` must select
        every column the answer shows (and its ordering columns)."""
        changes = database.list_changes if self.listen and not database._in_session() else None
        mark = None if changes is None else changes.mark()  # before any row is read
        if changes is not None and mark is not None:
            body = self._unchanged(key, changes, mark)
            if body is not None:
                return current_app.response_class(body, mimetype=JSON)
        fingerprint_statement = self._fingerprint_statement(statements)
        # The short way of a one-row read (Database.read_one): prepared once per connection, so PostgreSQL doesn't
        # plan the fingerprint on every request (planning it cost more than running it).
        fingerprint = database.read_one(fingerprint_statement, params)["fingerprint"]
        body = self._lookup(key, fingerprint, mark)
        if body is None:
            with database.snapshot() as reader:
                fingerprint = reader.execute(fingerprint_statement, params).scalar_one()
                rendered = render(reader)
            # What flask-smorest's jsonify would send: the app's JSON provider, and a newline.
            body = f"{current_app.json.dumps(schema.dump(rendered.value))}\n".encode()
            self._keep(key, _Kept(fingerprint, body, rendered.still_valid, mark))
        return current_app.response_class(body, mimetype=JSON)

    def rows(self, database, key: tuple, statement: Select, params: dict, schema) -> Response:
        """The common case: the answer is the statement's rows, dumped with ``schema``."""
        return self.answer(
            database, key, [statement], params, lambda reader: Rendered(reader.execute(statement, params).all()), schema
        )

    def _fingerprint_statement(self, statements: Sequence[Select]) -> Select:
        # Built once per set of statements, as the routes' statements themselves are (a statement hashes and
        # compares by identity, and the key keeps it alive).
        chosen = tuple(statements)
        built = self._fingerprints.get(chosen)
        if built is None:
            built = self._fingerprints[chosen] = fingerprint_of(chosen)
        return built

    def _unchanged(self, key: tuple, changes: ListChanges, now: Mark) -> bytes | None:
        """The kept body, when no change of its list and operator has been heard since its rows were read."""
        kept = self._kept.get(key)
        if kept is None or not changes.unchanged(scope_of(key[0], key[1]), kept.mark, now):
            return None
        if kept.still_valid is not None and not kept.still_valid():
            return None
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
        return kept.body

    def _lookup(self, key: tuple, fingerprint: str, mark: Mark | None) -> bytes | None:
        with self._lock:
            kept = self._kept.get(key)
            if kept is None or kept.fingerprint != fingerprint:
                return None
            if mark is not None:  # checked now: nothing heard since ``mark`` changes it
                kept = self._kept[key] = replace(kept, mark=mark)
            self._kept.move_to_end(key)
        if kept.still_valid is not None and not kept.still_valid():
            return None
        return kept.body

    def _keep(self, key: tuple, kept: _Kept) -> None:
        size = len(kept.body)
        if size > self.max_bytes // 4:
            return  # one huge list would push out every other: answered afresh each time instead
        with self._lock:
            old = self._kept.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._kept[key] = kept
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._kept.popitem(last=False)
                self._bytes -= len(dropped.body)
