"""The commerce worker: ``python -m commerce_service.worker`` (part of `make run`, the test stack and compose).

Every ``SWEEP_INTERVAL_S`` it settles the purchases still pending ``PENDING_PURCHASE_TTL_S`` after checkout
(services/expiry.py). Several may run: purchases are claimed with ``FOR UPDATE SKIP LOCKED``.
"""
from __future__ import annotations

import datetime as dt
import logging
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

from backoffice_common.logs import configure_logging
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from commerce_service.clients.payments import Payments
from commerce_service.config import Settings
from commerce_service.services.expiry import expire_stale_purchases

log = logging.getLogger("commerce.worker")
BATCH = 100


def main() -> None:
    settings = Settings()
    configure_logging("commerce-worker", settings.log_level)
    engine = create_engine(settings.database_url, pool_pre_ping=True, pool_size=2,
                           connect_args={"connect_timeout": settings.db_connect_timeout_s,
                                         "options": f"-c statement_timeout={settings.db_statement_timeout_ms}",
                                         "application_name": "commerce-worker"})
    session_factory = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def unit_of_work() -> Iterator[Session]:
        with session_factory() as session, session.begin():
            yield session

    payments = Payments(secret_key=settings.stripe_secret_key, api_base=settings.stripe_api_base,
                        webhook_secret=settings.stripe_webhook_secret,
                        connect_timeout=settings.stripe_timeout_connect_s,
                        read_timeout=settings.stripe_timeout_read_s)
    older_than = dt.timedelta(seconds=settings.pending_purchase_ttl_s)
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("commerce worker started")
    while not stopping:
        try:
            moved = expire_stale_purchases(unit_of_work=unit_of_work, payments=payments, older_than=older_than,
                                           limit=BATCH)
        except Exception:  # the database is down, say: try again next round
            log.exception("stale purchase sweep failed")
            moved = 0
        if moved < BATCH:  # a full batch means more may be waiting: go again at once
            deadline = time.monotonic() + settings.sweep_interval_s
            while not stopping and time.monotonic() < deadline:  # short naps: SIGTERM is heard within 0.5 s
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    log.info("commerce worker stopped")


if __name__ == "__main__":
    main()
