"""Deliveries for Prometheus, read when it scrapes: how many wait, and the oldest due one's lateness. A growing
lateness means the worker is down or behind (a dead endpoint only delays its own deliveries: they are not due)."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from backoffice_common.db import db
from webhooks_service.models import Delivery

_PENDING = select(
    func.count(),
    func.count().filter(Delivery.next_attempt_at <= func.now()),
    func.coalesce(func.extract("epoch", func.now() - func.min(Delivery.next_attempt_at)), 0),
).where(Delivery.status == "pending")


def collect():
    pending, due, late = db.read_all(_PENDING)[0]
    waiting = GaugeMetricFamily("webhook_deliveries_pending", "Deliveries not yet succeeded or failed.")
    waiting.add_metric([], pending)
    yield waiting
    ready = GaugeMetricFamily("webhook_deliveries_due", "Pending deliveries due now (waiting for a worker).")
    ready.add_metric([], due)
    yield ready
    oldest = GaugeMetricFamily(
        "webhook_oldest_due_delivery_seconds", "How late the most overdue pending delivery is (0 when none)."
    )
    oldest.add_metric([], max(0.0, float(late)))
    yield oldest
