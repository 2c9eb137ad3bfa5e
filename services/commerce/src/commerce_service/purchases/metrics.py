"""Purchases by status for Prometheus, read when it scrapes: from the rollups (one row per operator, project and
status, kept by triggers), not a count over every purchase; and the oldest pending purchase, from the sweeper's
partial index — alert when it is older than PENDING_PURCHASE_TTL_S (the sweeper is behind or down)."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from backoffice_common.db import db
from commerce_service.models import PURCHASE_STATUSES, Purchase, PurchaseCounts

_BY_STATUS = select(PurchaseCounts.status, func.coalesce(func.sum(PurchaseCounts.purchases), 0)).group_by(
    PurchaseCounts.status
)
_OLDEST_PENDING_AGE = select(func.coalesce(func.extract("epoch", func.now() - func.min(Purchase.created_at)), 0)).where(
    Purchase.status == "pending"
)


def collect():
    by_status = GaugeMetricFamily("commerce_purchases", "Purchases by status (all operators).", labels=["status"])
    counts = dict.fromkeys(PURCHASE_STATUSES, 0)  # every status reported, at 0 when none has it
    counts.update({status: int(count) for status, count in db.read_all(_BY_STATUS)})
    for status, count in counts.items():
        by_status.add_metric([status], count)
    oldest = db.read_all(_OLDEST_PENDING_AGE)[0][0]
    yield by_status
    yield GaugeMetricFamily(
        "commerce_oldest_pending_purchase_age_seconds",
        "Age of the oldest pending purchase (0 when none).",
        value=float(oldest),
    )
