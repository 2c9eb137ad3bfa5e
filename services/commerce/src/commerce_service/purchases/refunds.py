"""The operator's refund of a paid purchase (design §10): in full, through a Stripe Refund on its PaymentIntent
(none for a free purchase), the purchase refunded at once; Stripe's later charge.refunded changes nothing."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.orm import Session

from backoffice_common.errors import Conflict, Forbidden, NotFound
from commerce_service.clients.payments import Payments
from commerce_service.clients.projects import ProjectsClient
from commerce_service.models import Purchase
from commerce_service.purchases import status
from commerce_service.purchases.listing import PurchaseDetail, detail_of


def refund_purchase(
    *,
    session: Session,
    payments: Payments,
    projects: ProjectsClient,
    operator_id: uuid.UUID,
    purchase_id: uuid.UUID,
    reason: str | None,
    now: dt.datetime,
) -> PurchaseDetail:
    """Refund one of the operator's paid purchases in full: 404 unknown, 403 another operator's, 409 not paid,
    503 when Stripe can't be reached (the purchase stays paid: nothing is written before Stripe has refunded).

    The purchase stays locked while Stripe refunds, so a concurrent refund (or webhook) waits and then sees it
    refunded; if our commit were lost after Stripe refunded, charge.refunded still makes it refunded.
    """
    purchase = session.get(Purchase, purchase_id, with_for_update=True)
    if purchase is None:
        raise NotFound("Purchase not found.")
    if purchase.operator_id != operator_id:
        raise Forbidden("This purchase belongs to another operator.")
    if purchase.status != "paid":
        raise Conflict(f"Only a paid purchase can be refunded; this one is {purchase.status}.")
    if purchase.total_cents > 0:
        if purchase.stripe_payment_intent_id is None:  # a paid, priced purchase always has one (the webhook's)
            raise Conflict("This purchase has no payment to refund.")
        payments.refund_payment_intent(
            intent_id=purchase.stripe_payment_intent_id, purchase_id=purchase.id, reason=reason
        )
    detail = detail_of(session=session, projects=projects, purchase=purchase)
    status.refund(session=session, purchase=purchase, now=now, project_name=detail.project_name)
    return detail
