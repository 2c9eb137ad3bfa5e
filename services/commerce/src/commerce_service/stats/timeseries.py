"""The commerce side of analytics over time (design §11): purchases made paid, and their totals, per calendar bucket.

A purchase counts in the bucket of its ``paid_at`` (migration 0009) while it is ``paid``, exactly as
``GET /v1/analytics`` counts it (``stats/rules.py``): a refund takes it out of both its bucket and the KPIs, and
summed over all time the buckets are the KPIs. With ``photographerIds`` a purchase counts when it holds one of
their photos, and its revenue is those photos' shares, as there.

Counted from the purchases, not the rollups, over the index of paid purchases by (operator, project, paid_at)
carrying the total: a window costs the purchases paid inside it. Only non-empty buckets are answered; the
analytics service zero-fills. Buckets and the window are those of ``backoffice_common.buckets``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from backoffice_common.buckets import bucket, in_window, window_params
from commerce_service.models import Purchase, PurchaseItem

_PAID_IN_WINDOW = (
    Purchase.operator_id == bindparam("operator_id"),
    Purchase.project_id.in_(bindparam("scope", expanding=True)),
    Purchase.status == "paid",
    in_window(Purchase.paid_at),
)

_START = bucket(Purchase.paid_at)
SERIES = (
    select(
        _START.label("start"),
        func.count().label("purchases_made"),
        func.sum(Purchase.total_cents).label("revenue_in_cents"),
    )
    .where(*_PAID_IN_WINDOW)
    .group_by(_START)
    .order_by(_START)
)

# Narrowed to photographers: each purchase holding one of their photos once, with the sum of those photos' shares.
_SALES = (
    select(_START.label("start"), func.sum(PurchaseItem.share_cents).label("shares"))
    .join(PurchaseItem, PurchaseItem.purchase_id == Purchase.id)
    .where(*_PAID_IN_WINDOW, PurchaseItem.photographer_id.in_(bindparam("photographers", expanding=True)))
    .group_by(Purchase.id, _START)
    .subquery()
)
SERIES_BY_PHOTOGRAPHERS = (
    select(
        _SALES.c.start,
        func.count().label("purchases_made"),
        func.sum(_SALES.c.shares).label("revenue_in_cents"),
    )
    .group_by(_SALES.c.start)
    .order_by(_SALES.c.start)
)


@dataclass(frozen=True)
class Point:
    start: dt.date
    purchases_made: int
    revenue_in_cents: int


def purchase_timeseries(
    *,
    session: Session,
    operator_id: uuid.UUID,
    project_ids: list[uuid.UUID],
    photographer_ids: list[uuid.UUID] | None,
    timezone: str,
    interval: str,
    start: dt.date,
    end: dt.date,
) -> list[Point]:
    """Paid purchases and revenue of the operator's ``project_ids`` per bucket from ``start`` to ``end``
    inclusive (non-empty buckets only, oldest first)."""
    if not project_ids or photographer_ids == []:
        return []
    params = {
        **window_params(timezone=timezone, interval=interval, start=start, end=end),
        "operator_id": operator_id,
        "scope": project_ids,
    }
    if photographer_ids is None:
        rows = session.execute(SERIES, params)
    else:
        rows = session.execute(SERIES_BY_PHOTOGRAPHERS, {**params, "photographers": photographer_ids})
    return [Point(row.start, int(row.purchases_made), int(row.revenue_in_cents)) for row in rows]
