"""What every background worker needs: its database engine, and a loop that stops cleanly on SIGTERM."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable

from sqlalchemy import Engine, create_engine

from .logs import configure_logging

log = logging.getLogger("worker")


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


def run_forever(name: str, settings, one_round: Callable[[Callable[[], bool]], bool], *, idle_s: float) -> None:
    """Call ``one_round(stopping)`` until SIGTERM or SIGINT.

    ``one_round`` answers whether more work may be waiting (then it runs again at once); otherwise the
    worker waits ``idle_s``, in short naps so a stop is heard within half a second. A long round should
    ask ``stopping()`` between items and return early. An exception — the database is down, say — is
    logged and the round is tried again after the wait: a worker never dies of it.
    """
    configure_logging(name, settings.log_level)
    if settings.metrics_port:  # its outcome counters (SMTP, Stripe), from this process's own registry
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port)
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("worker started", extra={"worker": name})
    while not stopping:
        try:
            busy = one_round(lambda: stopping)
        except Exception:
            log.exception("worker round failed", extra={"worker": name})
            busy = False
        if not busy:
            deadline = time.monotonic() + idle_s
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    log.info("worker stopped", extra={"worker": name})
