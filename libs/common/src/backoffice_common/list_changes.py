"""The list changes a worker hears of from PostgreSQL, so that a kept list answer can be sent with no round trip.

A kept answer (backoffice_common.answers) used to be checked on every request: one statement for the fingerprint
of its rows. That round trip, not the statement, was most of a list's cost: on the project list at issue 8's size,
a check as cheap as a one-row lookup answered no faster than the fingerprint (0.41 / 0.32 × hello against 0.40 /
0.33), and no check at all answered at 0.59–0.65 ×.

So the database says when a list changes. After every statement that changes a table a list shows, a trigger
(:func:`notify_list_changes_sql`, in the service's migrations) sends ``NOTIFY list_changes, '<list> <operator>'``
for each operator whose rows it changed; PostgreSQL delivers it when the transaction commits, and not at all if it
rolls back. Triggers see every write — a request's, another worker's, a rollup's, a migration's, a hand-run UPDATE —
so there is still no write path that could forget to say so.

Each worker keeps one connection that LISTENs (a thread reads it, and a request reads whatever has arrived on it
before trusting a kept answer, so a notification waiting on the socket is never missed for want of the GIL). A
kept answer carries the :class:`Mark` taken *before* its rows were read; it is sent as it is while no notification
for its list and operator has been heard since. Whenever the worker can't be sure it has heard everything — not
connected yet, the connection lost, no word from the server for ``3 × heartbeat_s`` — there is no mark, and the
answer is checked by its fingerprint as before. A new connection starts a new generation: marks of an older one are
never trusted (what was said while nobody listened is lost).

What this gives up: a change is seen by the other workers once PostgreSQL has delivered its notification to them,
which it starts doing before the writer's COMMIT returns; a reader could only miss a change committed before its
request if that delivery were still under way when the request arrived (measured: never, in the whole suite and
the bench). A worker cut off from the database without an error trusts its answers for at most ``3 × heartbeat_s``.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url

CHANNEL = "list_changes"
EVERY_OPERATOR = "*"  # a TRUNCATE's payload: every kept answer of the list goes
_MOST_SCOPES = 100_000  # beyond this many lists heard of, a new generation instead of a longer dict
_WAIT_FOR_CONNECTION_S = 0.005  # a request that can't have the connection at once doesn't wait for the heartbeat
_WAIT_FOR_SYNC_S = 1.0  # a write's answer waits at most this long for its worker to hear it


@dataclass(frozen=True)
class Mark:
    """When a kept answer's rows were read: the connection's generation, and how many notifications it had heard."""

    generation: int
    heard: int


def scope_of(list_name: str, operator_id) -> str:
    """A notification's payload, and the scope of the kept answers it is about."""
    return f"{list_name} {operator_id}"


class ListChanges:
    """One worker's LISTEN connection, read by a thread of its own, started at first use (after the fork)."""

    def __init__(
        self, engine, *, url: str | None = None, application_name: str = "list-changes", heartbeat_s: float = 1.0
    ):
        self._engine = engine
        self._url = make_url(url) if url else engine.url  # its own, to PostgreSQL itself behind a pooler
        self._application_name = application_name
        self.heartbeat_s = heartbeat_s
        self._lock = threading.Lock()  # the connection and what was heard on it
        self._connection: Any = None  # psycopg2's connection, LISTENing
        self._generation = 0
        self._heard = 0
        self._last_heard: dict[str, int] = {}  # scope → the ``_heard`` of its latest notification
        self._contact = 0.0  # monotonic time of the server's last word
        self._pid: int | None = None
        self._inherited = None
        self._synced_from = 0.0
        self._closed = False

    def mark(self) -> Mark | None:
        """Where the worker stands now, to be taken before reading a list's rows; None when it can't be sure it has
        heard of every change (the answer is then checked by its fingerprint)."""
        if not self._caught_up():
            return None
        return Mark(self._generation, self._heard)

    def unchanged(self, scope: str, since: Mark | None, now: Mark) -> bool:
        """Whether nothing in ``scope`` can have changed between ``since`` and ``now`` (a mark just taken: what
        arrived on the connection is read once a request, by :meth:`mark`)."""
        if since is None or since.generation != now.generation:
            return False
        return self._last_heard.get(scope, 0) <= since.heard

    def wait_until_listening(self, timeout_s: float = 10.0) -> bool:
        """Until the worker hears the database's list changes (tests; a request never waits for it)."""
        deadline = time.monotonic() + timeout_s
        while self.mark() is None:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        self._closed = True
        with self._lock:
            self._lose()

    # -- the connection ------------------------------------------------------------------------------------------

    def sync(self) -> bool:
        """Hears every change committed before this call: a round trip on the listening connection, which PostgreSQL
        answers only after the notifications pending for it (a commit signals its listeners before it returns).
        A write request calls it after its COMMIT (Database.unit_of_work), so its worker has heard its own change
        before the client has the answer. One round trip serves every caller who was waiting for the connection
        when it began. False, without waiting long, when not listening."""
        if self._pid != os.getpid():
            return False  # nothing kept here trusts the connection yet
        asked = time.monotonic()
        if not self._lock.acquire(timeout=_WAIT_FOR_SYNC_S):
            return False
        try:
            if self._connection is None:
                return False
            if self._synced_from < asked:
                self._round_trip()
            return self._connection is not None and self._read()
        finally:
            self._lock.release()

    def _caught_up(self) -> bool:
        """Reads what has arrived on the connection; whether it is up and the server spoke lately."""
        if self._pid != os.getpid():
            self._start()
        if not self._lock.acquire(timeout=_WAIT_FOR_CONNECTION_S):
            return False  # the thread is in a heartbeat: this request checks by fingerprint instead
        try:
            if self._connection is None or not self._read():
                return False
            return time.monotonic() - self._contact < 3 * self.heartbeat_s
        finally:
            self._lock.release()

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            # A parent's, after a fork: not ours to use, nor to close (closing it would end the parent's session).
            self._inherited, self._connection = self._connection, None
            self._generation += 1
            thread = threading.Thread(target=_listen, args=(weakref.ref(self),), name="list-changes", daemon=True)
            thread.start()

    def _connect(self) -> None:
        dialect = self._engine.dialect
        args, options = dialect.create_connect_args(self._url)
        options.update(
            application_name=self._application_name,
            connect_timeout=5,
            # A server gone without a word (a dead host, a cut network) shows as an error within seconds.
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=2,
            tcp_user_timeout=10_000,
        )
        connection = dialect.loaded_dbapi.connect(*args, **options)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        with self._lock:
            if self._closed:
                connection.close()
                return
            self._connection = connection
            self._generation += 1
            self._last_heard.clear()
            self._contact = time.monotonic()

    def _read(self) -> bool:
        """Takes in the notifications waiting on the connection (the lock held); False if it is lost."""
        connection = self._connection
        try:
            connection.poll()
        except Exception:  # noqa: BLE001 (whatever the driver says, the connection is no longer to be trusted)
            self._lose()
            return False
        if connection.notifies:
            self._contact = time.monotonic()
            for notification in connection.notifies:
                self._hear(notification.payload)
            connection.notifies.clear()
        return True

    def _hear(self, payload: str) -> None:
        if payload.endswith(f" {EVERY_OPERATOR}") or len(self._last_heard) >= _MOST_SCOPES:
            self._generation += 1
            self._last_heard.clear()
            return
        self._heard += 1
        self._last_heard[payload] = self._heard

    def _round_trip(self) -> None:
        """``SELECT 1`` on the connection (the lock held): the server's word that it is there, and the
        notifications pending for us before its answer."""
        asked = time.monotonic()
        try:
            with self._connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:  # noqa: BLE001 (whatever the driver says, the connection is no longer to be trusted)
            self._lose()
            return
        self._contact = self._synced_from = asked

    def _lose(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection may fail too
                self._connection.close()
            self._connection = None
        self._generation += 1
        self._last_heard.clear()

    def _step(self) -> None:
        """One turn of the listening thread: connect, or wait for the server to say something, and take it in."""
        if self._connection is None:
            try:
                self._connect()
            except Exception:  # noqa: BLE001 (the database is down: requests check by fingerprint meanwhile)
                time.sleep(self.heartbeat_s)
            return
        try:
            ready, _, _ = select.select([self._connection], [], [], self.heartbeat_s)
        except (OSError, ValueError):  # closed meanwhile
            ready = []
        with self._lock:
            if self._connection is None:
                return
            if ready:
                self._read()
            if self._connection is not None and time.monotonic() - self._contact >= self.heartbeat_s:
                self._round_trip()  # a heartbeat: the server has been quiet for heartbeat_s
                if self._connection is not None:
                    self._read()


def _listen(changes_ref) -> None:
    """The listening thread: ends when its ListChanges is closed or gone (it holds no strong reference between
    turns, so a ListChanges nobody uses is collected, and its connection closed)."""
    while True:
        changes = changes_ref()
        if changes is None or changes._closed or changes._pid != os.getpid():
            return
        changes._step()
        del changes


def notify_list_changes_sql(
    table: str, lists: Sequence[str], *, operator: str = "c.operator_id", join: str = ""
) -> str:
    """The DDL that makes every statement changing ``table`` notify each of ``lists`` for each operator whose rows
    it changed (``operator``: the expression of a changed row ``c``'s operator, through ``join`` when the table has
    no operator column). Statement-level triggers with transition tables: one trigger run a statement, however many
    rows; PostgreSQL drops repeated notifications of one transaction, and sends none if it rolls back."""
    names = ", ".join(f"'{name}'" for name in lists)

    def each_operator(rows: str) -> str:
        # (DDL from a migration's own constants, never from input)
        return f"SELECT DISTINCT {operator} AS operator_id FROM {rows} c {join}"  # noqa: S608

    return f"""
CREATE FUNCTION {table}_list_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('{CHANNEL}', list || ' {EVERY_OPERATOR}') FROM unnest(ARRAY[{names}]) AS list;
  ELSIF TG_OP = 'INSERT' THEN
    PERFORM pg_notify('{CHANNEL}', list || ' ' || o.operator_id)
      FROM unnest(ARRAY[{names}]) AS list, ({each_operator("new_rows")}) o;
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('{CHANNEL}', list || ' ' || o.operator_id)
      FROM unnest(ARRAY[{names}]) AS list, ({each_operator("old_rows")}) o;
  ELSE
    PERFORM pg_notify('{CHANNEL}', list || ' ' || o.operator_id)
      FROM unnest(ARRAY[{names}]) AS list, ({each_operator("new_rows")} UNION {each_operator("old_rows")}) o;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER {table}_list_changes_insert AFTER INSERT ON {table}
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {table}_list_changes();
CREATE TRIGGER {table}_list_changes_update AFTER UPDATE ON {table}
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {table}_list_changes();
CREATE TRIGGER {table}_list_changes_delete AFTER DELETE ON {table}
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {table}_list_changes();
CREATE TRIGGER {table}_list_changes_truncate AFTER TRUNCATE ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION {table}_list_changes();
"""


def drop_list_changes_sql(table: str) -> str:
    return f"DROP FUNCTION {table}_list_changes() CASCADE;"
