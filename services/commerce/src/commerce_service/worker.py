"""The commerce worker: ``python -m commerce_service.worker`` (part of `make run`, the test stack and compose).

Two loops, each in its own thread so neither waits for the other:
- the sweeper: every ``SWEEP_INTERVAL_S`` it settles the purchases still pending ``PENDING_PURCHASE_TTL_S`` after
  checkout (purchases/expiry.py); purchases are claimed with ``FOR UPDATE SKIP LOCKED``, so several may run;
- the outbox: webhook events (purchases/events.py) relayed to the webhooks service, polled every
  ``OUTBOX_POLL_S`` (backoffice_common.outbox: at-least-once, with backoff, safe with several workers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from backoffice_common import outbox, webhook_events
from backoffice_common.internal import internal_client
from backoffice_common.worker import Loop, run_loops, worker_engine
from commerce_service.clients.payments import Payments
from commerce_service.clients.projects import ProjectsClient
from commerce_service.config import Settings
from commerce_service.models import OutboxMessage
from commerce_service.purchases.expiry import expire_stale_purchases

BATCH = 100
OUTBOX_BATCH = 50


def main() -> None:
    settings = Settings()
    session_factory = sessionmaker(worker_engine(settings, "commerce-worker"), expire_on_commit=False)

    @contextmanager
    def unit_of_work() -> Iterator[Session]:
        with session_factory() as session, session.begin():
            yield session

    payments = Payments.from_settings(settings)
    projects = ProjectsClient(
        internal_client(settings, "projects", caller="commerce-worker"), ttl_s=settings.project_cache_ttl_s
    )
    older_than = dt.timedelta(seconds=settings.pending_purchase_ttl_s)

    def sweep(stopping) -> bool:  # a full batch means more may be waiting: go again at once
        return (
            expire_stale_purchases(
                unit_of_work=unit_of_work,
                payments=payments,
                older_than=older_than,
                limit=BATCH,
                stopping=stopping,
                projects=projects,
            )
            >= BATCH
        )

    webhooks = internal_client(settings, "webhooks", caller="commerce-worker")
    handlers = {webhook_events.OUTBOX_KIND: lambda payload: webhook_events.publish(webhooks, payload)}

    def relay(_stopping) -> bool:  # something was handled: more may be due, go again at once
        return (
            outbox.drain_once(
                session_factory=session_factory,
                model=OutboxMessage,
                handlers=handlers,
                batch_size=OUTBOX_BATCH,
                base_s=settings.outbox_backoff_base_s,
                max_s=settings.outbox_backoff_max_s,
            )
            > 0
        )

    run_loops(
        "commerce-worker",
        settings,
        [Loop("sweeper", sweep, settings.sweep_interval_s), Loop("outbox", relay, settings.outbox_poll_s)],
    )


if __name__ == "__main__":
    main()
