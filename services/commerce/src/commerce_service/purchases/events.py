"""The purchase events operators' webhooks receive (design §12): ``purchase.paid`` and ``purchase.refunded``, written
into commerce's outbox in the transaction that makes the purchase so — checkout of a free purchase, Stripe's webhook,
the sweeper, the operator's refund — and relayed to the webhooks service by the commerce worker.

``data`` is the purchase detail exactly as ``GET /v1/purchases/:id`` answers it at that moment (its project's current
name, as far as projects can say: the cached lookup lists use, else the name at checkout)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice_common import webhook_events
from commerce_service.clients.projects import ProjectsClient
from commerce_service.models import OutboxMessage, Purchase
from commerce_service.purchases.listing import PurchaseDetail, current_names, purchase_photo_ids
from commerce_service.purchases.schemas import PurchaseDetailSchema

# A purchase that becomes one of these statuses is an event; others (pending, failed) are not.
STATUS_EVENTS = {"paid": "purchase.paid", "refunded": "purchase.refunded"}
_DETAIL = PurchaseDetailSchema()


def record_status_event(
    *,
    session: Session,
    purchase: Purchase,
    projects: ProjectsClient | None = None,
    project_name: str | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Write the event of the (flushed) purchase's new status, if it has one. ``project_name``: the current name
    when the caller has it (checkout); else asked of ``projects``. ``at``: the moment of the fact (default: this
    transaction's time, as the database stamps the change)."""
    event_type = STATUS_EVENTS.get(purchase.status)
    if event_type is None:
        return
    if project_name is None:
        project_name = (
            current_names(projects, [purchase], cached=True)[purchase.project_id]
            if projects is not None
            else purchase.project_name
        )
    detail = PurchaseDetail(
        purchase, project_name=project_name, downloads=purchase_photo_ids(session=session, purchase_id=purchase.id)
    )
    event = webhook_events.new_event(
        event_type,
        operator_id=purchase.operator_id,
        data=_DETAIL.dump(detail),
        created_at=at if at is not None else session.scalars(select(func.now())).one(),
    )
    session.add(OutboxMessage(kind=webhook_events.OUTBOX_KIND, payload=event))
