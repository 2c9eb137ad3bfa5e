"""What every background worker needs: its database engine, and loops that stop cleanly on SIGTERM."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine

from .logs import configure_logging

log = logging.getLogger("worker")

Round = Callable[[Callable[[], bool]], bool]


def worker_engine(settings, name: str) -> Engine:
    """A small pool with the services' timeouts, named in ``pg_stat_activity``."""
    return create_engine(
        settings.database_url,
        pool_pre_ping=True,
        pool_size=2,
        connect_args={
            "connect_timeout": settings.db_connect_timeout_s,
            "options": f"-c statement_timeout={settings.db_statement_timeout_ms}",
            "application_name": name,
        },
    )


@dataclass(frozen=True)
class Loop:
    """One job of a worker: ``one_round(stopping)`` again and again, waiting ``idle_s`` after an idle round."""

    name: str
    one_round: Round
    idle_s: float


def run_forever(name: str, settings, one_round: Round, *, idle_s: float) -> None:
    """Call ``one_round(stopping)`` until SIGTERM or SIGINT.

    ``one_round`` answers whether more work may be waiting (then it runs again at once); otherwise the
    worker waits ``idle_s`` (a stop is heard at once). A long round should ask ``stopping()`` between items
    and return early. An exception — the database is down, say — is logged and the round is tried again
    after the wait: a worker never dies of it.
    """
    run_loops(name, settings, [Loop(name, one_round, idle_s)])


def run_loops(name: str, settings, loops: list[Loop]) -> None:
    """``run_forever`` for several loops at once, each in its own thread (one slow job never holds up another);
    SIGTERM or SIGINT stops them all, and this returns once every loop has finished its round."""
    configure_logging(name, settings.log_level)
    if settings.metrics_port:  # its outcome counters (SMTP, Stripe), from this process's own registry
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port)
    stop = threading.Event()

    def on_signal(*_):
        # Set from another thread: the handler runs in the main thread, which may be inside stop.wait() holding
        # the event's own (non-reentrant) lock at that very moment.
        threading.Thread(target=stop.set).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("worker started", extra={"worker": name})
    threads = [threading.Thread(target=_loop, args=(loop, stop), name=loop.name) for loop in loops[1:]]
    for thread in threads:
        thread.start()
    _loop(loops[0], stop)  # the main thread runs one, so it stays the one that hears the signals
    for thread in threads:
        thread.join()
    log.info("worker stopped", extra={"worker": name})


def _loop(loop: Loop, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            busy = loop.one_round(stop.is_set)
        except Exception:
            log.exception("worker round failed", extra={"worker": loop.name})
            busy = False
        if not busy:
            stop.wait(loop.idle_s)
