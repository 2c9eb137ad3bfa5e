"""The commerce worker: ``python -m commerce_service.worker`` (part of `make run`, the test stack and compose).

Every ``SWEEP_INTERVAL_S`` it settles the purchases still pending ``PENDING_PURCHASE_TTL_S`` after checkout
(purchases/expiry.py). Several may run: purchases are claimed with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from backoffice_common.worker import run_forever, worker_engine
from sqlalchemy.orm import Session, sessionmaker

from commerce_service.clients.payments import Payments
from commerce_service.config import Settings
from commerce_service.purchases.expiry import expire_stale_purchases

BATCH = 100


def main() -> None:
    settings = Settings()
    session_factory = sessionmaker(worker_engine(settings, "commerce-worker"), expire_on_commit=False)

    @contextmanager
    def unit_of_work() -> Iterator[Session]:
        with session_factory() as session, session.begin():
            yield session

    payments = Payments.from_settings(settings)
    older_than = dt.timedelta(seconds=settings.pending_purchase_ttl_s)

    def sweep(stopping) -> bool:  # a full batch means more may be waiting: go again at once
        return (
            expire_stale_purchases(
                unit_of_work=unit_of_work, payments=payments, older_than=older_than, limit=BATCH, stopping=stopping
            )
            >= BATCH
        )

    run_forever("commerce-worker", settings, sweep, idle_s=settings.sweep_interval_s)


if __name__ == "__main__":
    main()
