"""The delivery worker: ``python -m webhooks_service.worker`` (part of `make run`, the test stack and compose).

One loop claims due deliveries (deliveries/rules.py: leased, fair per endpoint and per operator) and hands each
to a bounded pool of sending threads (deliveries/sender.py: SSRF-safe, 10 s at most); the same loop records the
finished attempts in batches. Only this loop touches the database; the threads only do HTTP. Several workers
may run: claims skip locked rows and leases keep a delivery with the worker that took it.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from backoffice_common.metrics import outcome_counter
from backoffice_common.worker import run_forever, worker_engine
from webhooks_service.config import Settings
from webhooks_service.deliveries import rules
from webhooks_service.deliveries.sender import Outcome, Sender
from webhooks_service.deliveries.signing import HEADER, signature

log = logging.getLogger(__name__)

ATTEMPTS = outcome_counter(
    "webhook_attempts_total", "Delivery attempts by outcome (succeeded, failed: a non-2xx answer, no_answer)."
)


def headers_for(claimed: rules.Claimed, body: bytes, now: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Backoffice-Event-Id": claimed.event_id,
        HEADER: signature(claimed.secret, body, now),
    }


def slow_sends(
    sending: dict[int, tuple[uuid.UUID, float]], slow_endpoints: set[uuid.UUID], *, now: float, slow_s: float
) -> tuple[set[uuid.UUID], int]:
    """The slow endpoints — the last attempt of theirs took ``slow_s`` or more, or one in flight has run that long —
    and how many sends in flight are theirs."""
    slow = slow_endpoints | {endpoint_id for endpoint_id, started in sending.values() if now - started >= slow_s}
    return slow, sum(1 for endpoint_id, _ in sending.values() if endpoint_id in slow)


class Dispatcher:
    def __init__(self, settings: Settings, session_factory: sessionmaker, sender: Sender):
        self.session_factory = session_factory
        self.sender = sender
        self.concurrency = settings.webhook_concurrency
        self.caps = rules.Caps(settings.webhook_endpoint_concurrency, settings.webhook_operator_concurrency)
        self.retries = rules.Retries(
            settings.webhook_backoff_base_s,
            settings.webhook_backoff_max_s,
            dt.timedelta(seconds=settings.webhook_retry_window_s),
        )
        self.poll_s = settings.webhook_poll_s
        self.pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="webhook-send")
        self.finished: queue.Queue[tuple[rules.Claimed, Outcome]] = queue.Queue()
        self.in_flight = 0
        self.endpoints: Counter = Counter()
        self.operators: Counter = Counter()
        # Slow endpoints (an attempt of theirs ran past ``slow_s``) share at most ``slow_concurrency`` threads, so
        # fast receivers always have some: sends in flight (delivery id → endpoint, start), the last slow ones.
        self.slow_s = settings.webhook_slow_attempt_s
        self.slow_concurrency = min(settings.webhook_slow_concurrency, self.concurrency)
        self.sending: dict[int, tuple[uuid.UUID, float]] = {}
        self.slow_endpoints: set[uuid.UUID] = set()

    def one_round(self, _stopping=None) -> bool:
        """Record what finished, send what is due; wait (for a send to finish, or the poll interval) only when
        neither had anything."""
        recorded = self.record(self.take_finished())
        claimed = self.claim()
        if not recorded and not claimed:
            self.record(self.take_finished(wait_s=self.poll_s))
        return True  # the round itself waited when idle

    def claim(self) -> int:
        started = time.monotonic()
        slow, slow_in_flight = slow_sends(self.sending, self.slow_endpoints, now=started, slow_s=self.slow_s)
        with self.session_factory() as session, session.begin():
            claimed = rules.claim_due(
                session=session,
                slots=self.concurrency - self.in_flight,
                caps=self.caps,
                in_flight_endpoints=self.endpoints,
                in_flight_operators=self.operators,
                slow_endpoints=slow,
                slow_slots=max(0, self.slow_concurrency - slow_in_flight),
            )
        for delivery in claimed:
            self.sending[delivery.id] = (delivery.endpoint_id, started)
            self.in_flight += 1
            self.endpoints[delivery.endpoint_id] += 1
            self.operators[delivery.operator_id] += 1
            self.pool.submit(self.send, delivery)
        return len(claimed)

    def send(self, claimed: rules.Claimed) -> None:
        body = claimed.body.encode()
        try:
            outcome = self.sender.post(claimed.url, body, headers_for(claimed, body, int(time.time())))
        except Exception as exc:  # the sender never raises; should it, the attempt still ends (and is retried)
            log.exception("webhook send failed unexpectedly")
            outcome = Outcome(None, f"{type(exc).__name__}: {exc}"[:500], 0)
        self.finished.put((claimed, outcome))

    def take_finished(self, wait_s: float = 0.0) -> list[tuple[rules.Claimed, Outcome]]:
        items = []
        try:
            items.append(self.finished.get(timeout=wait_s) if wait_s > 0 else self.finished.get_nowait())
            while True:
                items.append(self.finished.get_nowait())
        except queue.Empty:
            pass
        return items

    def record(self, items: list[tuple[rules.Claimed, Outcome]]) -> int:
        if not items:
            return 0
        try:
            with self.session_factory() as session, session.begin():
                now = session.scalar(select(func.now()))
                moved = rules.record_attempts(
                    session=session,
                    attempts=[
                        rules.Attempt(claimed, outcome.status_code, outcome.error, outcome.duration_ms)
                        for claimed, outcome in items
                    ],
                    now=now,
                    retries=self.retries,
                )
            for claimed, outcome in items:
                status = moved.get(claimed.id)
                if status is not None and status != "succeeded":
                    log.info(
                        "webhook attempt failed",
                        extra={
                            "event_id": claimed.event_id,
                            "endpoint_id": str(claimed.endpoint_id),
                            "attempt": claimed.attempts + 1,
                            "status_code": outcome.status_code,
                            "error": outcome.error,
                            "delivery_status": status,
                        },
                    )
        except Exception:
            for item in items:  # kept for the next round (the lease keeps the deliveries ours meanwhile)
                self.finished.put(item)
            raise
        for claimed, outcome in items:
            self.sending.pop(claimed.id, None)
            if outcome.duration_ms >= self.slow_s * 1000:
                self.slow_endpoints.add(claimed.endpoint_id)
            else:
                self.slow_endpoints.discard(claimed.endpoint_id)
            self.in_flight -= 1
            self.endpoints[claimed.endpoint_id] -= 1
            self.operators[claimed.operator_id] -= 1
            if self.endpoints[claimed.endpoint_id] <= 0:
                del self.endpoints[claimed.endpoint_id]
            if self.operators[claimed.operator_id] <= 0:
                del self.operators[claimed.operator_id]
            ATTEMPTS.labels(
                "send",
                "succeeded" if outcome.succeeded else ("no_answer" if outcome.status_code is None else "failed"),
            ).inc()
        return len(items)

    def finish(self) -> None:
        """After a stop: let the sends in flight end (each within its timeout) and record them."""
        self.pool.shutdown(wait=True)
        try:
            self.record(self.take_finished())
        except Exception:
            log.exception("could not record the last attempts: their deliveries are retried when the lease ends")


def main() -> None:
    settings = Settings()
    session_factory = sessionmaker(worker_engine(settings, "webhooks-worker"), expire_on_commit=False)
    sender = Sender(
        public_only=settings.app_env == "prod",
        connect_timeout_s=settings.webhook_connect_timeout_s,
        timeout_s=settings.webhook_timeout_s,
    )
    dispatcher = Dispatcher(settings, session_factory, sender)
    run_forever("webhooks-worker", settings, dispatcher.one_round, idle_s=1.0)
    dispatcher.finish()


if __name__ == "__main__":
    main()
