"""Engine and request-scoped session, with a unit-of-work helper.

Domain code only adds and flushes; the view commits once through
``db.unit_of_work()`` (or rolls back on any error).
"""

from __future__ import annotations

import itertools
import re
import select
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.local import LocalProxy

from .errors import DomainError, ServiceUnavailable
from .internal import best_effort
from .list_changes import ListChanges

_READABLE = select.POLLIN | select.POLLPRI | select.POLLHUP | select.POLLERR


def _dropped_by_server(dbapi_connection) -> bool:
    """Whether the server has closed an idle connection (a restart, ``pg_terminate_backend``, an idle timeout).

    An idle connection between transactions has nothing to read; a server that goes away sends its FATAL
    message and closes the socket, which makes it readable. One ``poll`` with no wait — no round trip.
    """
    if dbapi_connection.closed:
        return True
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), _READABLE)
    return bool(poller.poll(0))


def check_connections_on_checkout(engine: Engine, *, ping_after_idle_s: float) -> None:
    """Hand out only live connections, without pool_pre_ping's round trip on every checkout.

    A connection the server closed is seen for free (:func:`_dropped_by_server`); one idle longer than
    ``ping_after_idle_s`` is also pinged (a peer or firewall that dropped it silently answers a ping with a
    reset). Either way the pool replaces it — and every older pooled connection, as pre-ping did — before
    the request uses it. A database that goes away *during* a request still costs that request a 503
    (errors.py), and the pool then reconnects.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None:  # a new connection
            return
        if not _still_alive(engine, dbapi_connection, idle_since, ping_after_idle_s):
            raise exc.InvalidatePoolError("connection closed by the database server")


def _still_alive(engine: Engine, dbapi_connection, idle_since: float, ping_after_idle_s: float) -> bool:
    """Whether a connection idle since ``idle_since`` can be used: not closed by the server (seen for free), and
    answering a ping when it has been idle longer than ``ping_after_idle_s``."""
    if dbapi_connection is None or _dropped_by_server(dbapi_connection):
        return False
    if time.monotonic() - idle_since > ping_after_idle_s:
        try:
            engine.dialect.do_ping(dbapi_connection)  # (in autocommit: it leaves no transaction open)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                return False
            raise
    return True


class _Held:
    """A read connection a thread keeps between its reads (:class:`ReadConnections`)."""

    __slots__ = ("fairy", "idle_since", "__weakref__")

    def __init__(self, fairy) -> None:
        self.fairy = fairy
        self.idle_since = time.monotonic()

    def give_back(self, *, invalidate: bool = False) -> None:
        fairy, self.fairy = self.fairy, None
        if fairy is not None:
            if invalidate:
                fairy.invalidate()
            fairy.close()


class ReadConnections:
    """The connections ``read_one`` reads on: each thread keeps one connection of the autocommit reads pool checked
    out between its reads, instead of taking one from the pool and giving it back around every read.

    Under load that round trip through the pool — its lock, which two request threads contend for, and its checkout
    and checkin events — was a sixth of a one-row route's CPU (py-spy); a kept connection made `GET
    /v1/operators/me` 10–14 % faster against the same hello baseline. The pool's checks still run on every use (a
    connection the server closed is seen for free, one idle past ``ping_after_idle_s`` is pinged): a dead one is
    dropped and the thread takes a new one from the pool. A read that fails gives its connection back to the pool
    (invalidated when the failure shows it dead); a thread that ends gives its own back. Each thread's connection
    counts as in use in the reads pool's gauge for as long as the thread keeps it.

    When a thread ends, its thread-local data goes, and with it the last reference to its connection: SQLAlchemy's
    pool takes back a connection collected that way (a test checks it is back, ready for the next thread).
    """

    def __init__(self, engine: Engine, *, ping_after_idle_s: float) -> None:
        self.engine = engine
        self.ping_after_idle_s = ping_after_idle_s
        self._mine = threading.local()
        self._every: weakref.WeakSet[_Held] = weakref.WeakSet()
        self._lock = threading.Lock()

    @contextmanager
    def connection(self):
        """This thread's read connection (a pool ``_ConnectionFairy``), for one read."""
        held = getattr(self._mine, "held", None)
        self._mine.held = None  # not kept while in use: a read that fails gives it back below
        if held is not None:
            try:
                alive = held.fairy is not None and _still_alive(  # (None: given back meanwhile, give_back_all)
                    self.engine, held.fairy.dbapi_connection, held.idle_since, self.ping_after_idle_s
                )
            except BaseException:  # a ping that failed otherwise than by a lost connection
                held.give_back(invalidate=True)
                raise
            if not alive:
                held.give_back(invalidate=True)
                held = None
        if held is None:
            held = _Held(self.engine.raw_connection())
            with self._lock:
                self._every.add(held)
        try:
            yield held.fairy
        except BaseException:
            held.give_back()
            raise
        held.idle_since = time.monotonic()
        self._mine.held = held

    def give_back_all(self) -> None:
        """Every thread's kept connection back to the pool (before disposing of it; not while requests run)."""
        with self._lock:
            every = list(self._every)
        for held in every:
            held.give_back()


# Database errors by SQLSTATE, for ``constraint_errors``.
UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
CHECK_VIOLATION = "23514"
_COMPENSATIONS = "backoffice_compensations"

# What a command that commits more than once takes (``db.unit_of_work``): a factory of units of work.
UnitOfWork = Callable[[], AbstractContextManager[Session]]
# What ``Database.read_side_by_side`` is to a rule: (statement, parameters) pairs in, each one's rows out, in order.
SideBySide = Callable[..., list[list]]


def one_after_another(session: Session) -> SideBySide:
    """What ``Database.read_side_by_side`` gives, read one statement after the other on ``session``: the reader a rule
    is handed where its reads must go through one session or connection (tests, a view already holding one)."""
    return lambda *reads: [session.execute(statement, params).all() for statement, params in reads]


# Threads a worker process lends to read_side_by_side: a request's few statements at once, for two request threads.
SIDE_THREADS = 4


@contextmanager
def constraint_errors(session: Session, errors: dict[str, DomainError]):
    """Make the block's changes and flush them inside a savepoint; a constraint the database enforces becomes the
    domain error mapped to its SQLSTATE (``{UNIQUE_VIOLATION: field_error("email", …, error=Conflict)}``).

    Either way the savepoint is rolled back on failure (new objects expunged, changed ones expired), so the session
    stays usable and unchanged. Changes must be made inside the block: ``begin_nested`` flushes what is pending
    first. The check a rule makes before writing gives the clean answer; this decides the race.
    """
    try:
        with session.begin_nested():
            yield
            session.flush()
    except exc.DBAPIError as error:
        pgcode = getattr(error.orig, "pgcode", None)
        mapped = errors.get(pgcode) if pgcode is not None else None
        if mapped is None:
            raise
        raise mapped from error


def change_elsewhere(session: Session, change, *, undo, what: str):
    """Make a change in another service (``change()``, returned) that this request's unit of work undoes (``undo()``,
    best effort) unless it commits: ``undo_on_rollback`` registered before the call, since the peer may apply the
    change and only its answer be lost (503), or our own commit may fail afterwards. A clean refusal (any other
    domain error: a 409, a 404) changed nothing there, so it leaves nothing to undo — an undo then could even
    overwrite a concurrent request's change made meanwhile."""
    entry = (undo, what)
    session.info.setdefault(_COMPENSATIONS, []).append(entry)
    try:
        return change()
    except DomainError as error:
        if not isinstance(error, ServiceUnavailable):
            session.info[_COMPENSATIONS].remove(entry)
        raise


def undo_on_rollback(session: Session, undo, what: str) -> None:
    """Register the undo of a change made (or perhaps made: its answer may have been lost) in another service, before
    making it: if this request's unit of work does not commit — the peer said no, was unreachable, or our own commit
    failed — the undo runs, best effort, after the rollback. So a command spanning two services is both or neither
    without committing in domain code."""
    session.info.setdefault(_COMPENSATIONS, []).append((undo, what))


_PYFORMAT = re.compile(r"%\(([^)]+)\)s|%%")
_PLAN_CHANGED = "0A000"  # "cached plan must not change result type": a migration changed a selected column
_statement_names = itertools.count(1)


class _DriverStatement:
    """A read-only statement compiled once for the engine's dialect, run on the pool's driver connection.

    SQLAlchemy's own pieces do the work — its SQL text and parameter names, its bind processors for the values,
    its result keys and result processors for the row — so the row is what a Core execution gives. Driver
    errors come out as SQLAlchemy's (the error handlers turn a lost database into a 503), and a connection the
    error shows dead is invalidated, as Core does.

    Each connection also PREPAREs the statement the first time it runs it, then EXECUTEs it: PostgreSQL parses
    and plans it once per connection instead of on every request (its CPU per read: ~60 -> ~20 us). A statement
    PostgreSQL can't prepare as it is (a parameter of no inferable type) keeps running as plain SQL; one whose
    plan a migration invalidated is prepared anew.
    """

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        self.compiled = compiled
        result_columns = getattr(compiled, "_result_columns", None)  # what Core's results are keyed by
        runnable = (
            dialect.paramstyle == "pyformat"
            and result_columns is not None
            and not compiled.post_compile_params
            and not compiled.literal_execute_params
        )
        self.sql = compiled.string if runnable else None
        self.bind_processors = {
            name: process
            for bind, name in compiled.bind_names.items()
            if (process := bind.type.dialect_impl(dialect).bind_processor(dialect))
        }
        self.name = f"backoffice_read_{next(_statement_names)}"
        order: list[str] = []

        def positional(match):
            if match.group(1) is None:
                return "%"  # pyformat's escaped percent sign
            if match.group(1) not in order:
                order.append(match.group(1))
            return f"${order.index(match.group(1)) + 1}"

        self.prepare = f"PREPARE {self.name} AS {_PYFORMAT.sub(positional, self.sql)}" if self.sql else None
        self.order = order
        self.execute = f"EXECUTE {self.name}({', '.join(['%s'] * len(order))})" if order else f"EXECUTE {self.name}"
        self.keys = [column.keyname for column in result_columns or ()]
        self.types = [column.type.dialect_impl(dialect) for column in result_columns or ()]
        self.processors = None  # from the driver's column types, on the first run

    def first(self, connections: ReadConnections, params: dict | None) -> dict | None:
        """The first row, read on this thread's read connection (autocommit: ``Database.reads``)."""
        values = self.compiled.construct_params(params)
        for name, process in self.bind_processors.items():
            values[name] = process(values[name])
        dialect = connections.engine.dialect
        driver_error = dialect.loaded_dbapi.Error
        try:
            with connections.connection() as fairy:
                return self._first(fairy, values, dialect)
        except driver_error as error:  # (no connection to be had, or a kept one's ping failed)
            raise exc.DBAPIError.instance(None, None, error, driver_error, dialect=dialect) from error

    def _first(self, fairy, values: dict, dialect) -> dict | None:
        driver_error = dialect.loaded_dbapi.Error
        connection = fairy.dbapi_connection
        if connection is None:  # (a checked-out connection has one; only a closed or invalidated one has not)
            raise exc.InvalidRequestError("The pool handed out a connection without its driver connection.")
        cursor = None
        try:
            cursor = connection.cursor()
            self._run(fairy, cursor, values, dialect.loaded_dbapi)
            row = cursor.fetchone()
            processors = self.processors  # (another thread may reset the shared one meanwhile)
            if processors is None:
                processors = self.processors = [
                    kind.result_processor(dialect, column[1])
                    for kind, column in zip(self.types, cursor.description, strict=True)
                ]
            cursor.close()
        except driver_error as error:
            lost = dialect.is_disconnect(error, connection, cursor)
            if lost:
                fairy.invalidate(error)
            raise exc.DBAPIError.instance(
                self.sql, values, error, driver_error, connection_invalidated=lost, dialect=dialect
            ) from error
        if row is None:
            return None
        return {
            key: value if process is None else process(value)
            for key, process, value in zip(self.keys, processors, row, strict=True)
        }

    def _run(self, fairy, cursor, values: dict, dbapi) -> None:
        if self.prepare is None:
            cursor.execute(self.sql, values)
            return
        prepared = fairy.info.setdefault("prepared_reads", set())  # this connection's (gone with the connection)
        if self.name not in prepared:
            try:
                cursor.execute(self.prepare)
            except dbapi.ProgrammingError:  # e.g. "could not determine data type of parameter $1"
                cursor.execute(self.sql, values)
                self.prepare = None  # it runs as plain SQL: it will from now on
                return
            prepared.add(self.name)
        try:
            cursor.execute(self.execute, [values[name] for name in self.order])
        except dbapi.NotSupportedError as error:
            if getattr(error, "pgcode", None) != _PLAN_CHANGED:
                raise
            cursor.execute(f"DEALLOCATE {self.name}")
            prepared.discard(self.name)
            self.processors = None  # the result's column types changed
            self._run(fairy, cursor, values, dbapi)


def _engine(settings, *, more: int = 0, **options) -> Engine:
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size + more,
        max_overflow=settings.db_pool_size,
        pool_timeout=5,
        connect_args={
            "connect_timeout": settings.db_connect_timeout_s,
            # JIT compilation costs more than it saves on short OLTP queries (seen: +6 ms on a list).
            "options": f"-c statement_timeout={settings.db_statement_timeout_ms} -c jit=off",
            "application_name": settings.service_name,
        },
        **options,
    )
    # Instead of pool_pre_ping, whose SELECT 1 was a second round trip on every request.
    check_connections_on_checkout(engine, ping_after_idle_s=settings.db_ping_after_idle_s)
    return engine


class Database:
    def __init__(self, app: Flask, settings):
        self.engine = _engine(settings)
        # The reads outside any session (read_one, read_all, KeptAnswers' fingerprints) have connections of their
        # own, in autocommit for life: no BEGIN before a read and no ROLLBACK after it, and nothing to switch.
        # Switching the shared connections into autocommit and back cost two driver calls a read, each of which
        # lets go of the GIL — with four threads a worker, a hand-over each time (the project list: ~0.15 ms of
        # CPU a request). Nothing is ever left open on them, so neither the pool nor a Core connection closing has
        # anything to roll back (psycopg2's rollback() would let go of the GIL too).
        # Beyond DB_POOL_SIZE (which covers each request thread's two: the one it keeps for read_one and one for
        # reading() or its own first side read), room for read_side_by_side's threads, a connection each. Without
        # it they went past the pool into overflow connections, which the pool closes when given back: under
        # analytics load, projects opened a connection for most reads.
        self.reads = _engine(
            settings,
            more=SIDE_THREADS,
            isolation_level="AUTOCOMMIT",
            pool_reset_on_return=None,
            skip_autocommit_rollback=True,
        )
        self.read_connections = ReadConnections(self.reads, ping_after_idle_s=settings.db_ping_after_idle_s)
        # What the kept list answers trust (backoffice_common.answers): a LISTEN connection, opened at first use.
        self.list_changes = ListChanges(
            self.reads,
            url=settings.list_changes_database_url,
            application_name=f"{settings.service_name}-list-changes",
        )
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self._driver_statements: dict = {}
        self._side_threads: ThreadPoolExecutor | None = None  # made on first use: in the worker, after the fork
        self._side_lock = threading.Lock()
        app.extensions["database"] = self
        app.teardown_appcontext(self._close_session)

    @property
    def engines(self) -> tuple[Engine, Engine]:
        """Both pools: the sessions' and transactions' (``engine``), and the autocommit reads' (``reads``)."""
        return self.engine, self.reads

    def dispose(self) -> None:
        self.list_changes.close()
        if self._side_threads is not None:
            self._side_threads.shutdown(wait=True)
            self._side_threads = None
        self.read_connections.give_back_all()
        for engine in self.engines:
            engine.dispose()

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = self.session_factory()
        return g.db_session

    @contextmanager
    def unit_of_work(self):
        """One commit per request, or a rollback on any error — and then the undo of every change the request made
        in another service (``undo_on_rollback``), newest first."""
        session = self.session
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            for undo, what in reversed(session.info.pop(_COMPENSATIONS, [])):
                best_effort(undo, what)
            raise
        finally:
            session.info.pop(_COMPENSATIONS, None)
        # Before the client has the answer, this worker hears the change it made: its own kept lists don't outlive
        # it (list_changes; the other workers were signalled by the COMMIT itself).
        self.list_changes.sync()

    def _in_session(self) -> bool:
        """Whether reads go through the request's session: it has one (and must see its own writes), or tests
        bound sessions to their own connection."""
        return "db_session" in g or self.session_factory.kw.get("bind") is not self.engine

    @contextmanager
    def reading(self):
        """A connection for one read-only statement: the request's session when it has one (it then sees its
        own writes), else a pooled connection in autocommit — no Session, no BEGIN before the statement and no
        ROLLBACK after it, which on a one-row route cost more than the query. A single statement is atomic by
        itself, and under READ COMMITTED two statements of one transaction see two snapshots anyway."""
        if self._in_session():
            yield self.session
            return
        with self.reads.connect() as connection:
            yield connection

    @contextmanager
    def snapshot(self):
        """A connection whose statements all see one snapshot (REPEATABLE READ, read only): for the few reads that
        must agree with each other (a list answer and the fingerprint it is kept under). Costs a transaction's
        round trips, unlike :meth:`reading`; the request's session when it has one."""
        if self._in_session():
            yield self.session
            return
        with self.engine.connect().execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True) as (
            connection
        ):
            with connection.begin():
                yield connection

    @contextmanager
    def streaming(self):
        """A connection for one long read-only statement whose rows are fetched in batches from a server-side
        cursor (``execution_options(yield_per=N)``): memory stays flat however many rows it has. Inside a
        transaction, as PostgreSQL's cursors need one (not :meth:`reading`'s autocommit); the request's session
        when tests bound it. Rolled back at the end: it wrote nothing."""
        if self._in_session():
            yield self.session.connection()
            return
        with self.engine.connect() as connection:
            yield connection

    def read_one(self, statement, params: dict | None = None) -> dict | None:
        """The first row of a read-only, single ``statement`` as a dict (None without one): one round trip.

        Outside a session it takes the short way (:class:`_DriverStatement`): the statement compiled once, run
        by the pooled driver connection itself in autocommit — a third of the CPU of a Core execution, which
        builds a Connection, an execution context and a result object around the same one round trip.
        (SQLAlchemy's execution events don't see it.) Never use this for a statement that writes. Build
        ``statement`` once, at import.
        """
        driver = None
        if not self._in_session():
            driver = self._driver_statements.get(statement)
            if driver is None:
                driver = self._driver_statements[statement] = _DriverStatement(statement, self.engine.dialect)
        if driver is not None and driver.sql is not None:
            return driver.first(self.read_connections, params)
        # Through the session, or Core for what the driver can't run as it is (expanding IN, ...).
        with self.reading() as reader:
            row = reader.execute(statement, params).mappings().first()
        return None if row is None else dict(row)

    def read_all(self, statement, params: dict | None = None) -> list:
        """Every row of a read-only, single ``statement`` (plain rows), as :meth:`read_one` reads one."""
        with self.reading() as reader:
            return reader.execute(statement, params).all()

    def read_side_by_side(self, *reads: tuple) -> list[list]:
        """Every row of each ``(statement, params)`` — read-only statements, independent of each other — read at once:
        each on a reads connection of its own, the first in the calling thread, the others in a small pool of
        threads. For figures of milliseconds each (analytics' distinct counts), whose time becomes the slowest one's
        instead of their sum. Each sees its own moment, as any two autocommit reads do. One after the other through
        the request's session when it has one (its own writes; tests bind sessions to their transaction)."""
        if len(reads) < 2 or self._in_session():
            return [self.read_all(statement, params) for statement, params in reads]
        with self._side_lock:
            if self._side_threads is None:
                self._side_threads = ThreadPoolExecutor(max_workers=SIDE_THREADS, thread_name_prefix="side-read")
        futures = [self._side_threads.submit(self._read_apart, *read) for read in reads[1:]]
        try:
            first = self._read_apart(*reads[0])
        except BaseException:
            for future in futures:
                future.cancel()  # those not begun yet needn't run
            raise
        finally:
            failures = [  # every one begun finishes, whatever happened here
                None if future.cancelled() else future.exception() for future in futures
            ]
        for failure in failures:
            if failure is not None:
                raise failure
        return [first, *(future.result() for future in futures)]

    def _read_apart(self, statement, params: dict | None) -> list:
        with self.reads.connect() as connection:
            return list(connection.execute(statement, params).all())

    def ping(self) -> None:
        """Both pools can reach the database (readiness)."""
        for engine in self.engines:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))

    def bind_for_tests(self, connection: Connection) -> None:
        """Run every session inside an outer test transaction (savepoint per commit)."""
        self.session_factory = sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )

    @staticmethod
    def _close_session(_exc=None):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db: Database = LocalProxy(lambda: current_app.extensions["database"])  # type: ignore[assignment]
