"""Purchase figures for the analytics service (design §7): paid purchases only, in one statement."""
from __future__ import annotations

import uuid

from sqlalchemy import distinct, func, select, tuple_
from sqlalchemy.orm import Session

from commerce_service.models import Purchase, PurchaseItem


def purchase_stats(*, session: Session, operator_id: uuid.UUID, project_ids: list[uuid.UUID],
                   photographer_ids: list[uuid.UUID] | None = None) -> dict:
    """Paid purchases of the operator's ``project_ids``: count, revenue, distinct buyers, and per project.

    With ``photographer_ids`` only purchases holding a photo of theirs count, and revenue is those
    photos' shares.
    """
    empty = {"purchases_made": 0, "revenue_in_cents": 0, "buyers": 0, "projects": []}
    if not project_ids or photographer_ids == []:
        return empty
    paid = [Purchase.operator_id == operator_id, Purchase.status == "paid",
            Purchase.project_id.in_(set(project_ids))]
    if photographer_ids is None:
        counted = select(Purchase.project_id, Purchase.participant_id,
                         Purchase.total_cents.label("revenue")).where(*paid)
    else:
        counted = (select(Purchase.project_id, Purchase.participant_id,
                          func.sum(PurchaseItem.share_cents).label("revenue"))
                   .join(PurchaseItem, PurchaseItem.purchase_id == Purchase.id)
                   .where(*paid, PurchaseItem.photographer_id.in_(set(photographer_ids)))
                   .group_by(Purchase.id))
    counted = counted.subquery()
    # One row per project plus the grand total (project_id NULL): GROUPING SETS does both in one pass.
    rows = session.execute(
        select(counted.c.project_id, func.count().label("purchases"),
               func.coalesce(func.sum(counted.c.revenue), 0).label("revenue"),
               func.count(distinct(counted.c.participant_id)).label("buyers"))
        .group_by(func.grouping_sets(counted.c.project_id, tuple_()))).all()
    totals = next((row for row in rows if row.project_id is None), None)
    if totals is None or totals.purchases == 0:
        return empty
    projects = sorted((row for row in rows if row.project_id is not None), key=lambda row: str(row.project_id))
    return {"purchases_made": totals.purchases, "revenue_in_cents": int(totals.revenue), "buyers": totals.buyers,
            "projects": [{"project_id": row.project_id, "purchases_made": row.purchases,
                          "revenue_in_cents": int(row.revenue)} for row in projects]}
