"""The purchase status machine (design §6): which event moves a purchase where, never backwards, and the promo
code use that moves with it; and a purchase whose payment could not even start."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func
from sqlalchemy.orm import Session

from commerce_service.clients.projects import ProjectsClient
from commerce_service.models import Purchase
from commerce_service.promo_codes.rules import give_back_promo_code_use, take_promo_code_use
from commerce_service.purchases.events import record_status_event

# What each event we act on would make of a purchase.
EVENT_STATUSES = {
    "payment_intent.succeeded": "paid",
    "payment_intent.payment_failed": "failed",
    "payment_intent.canceled": "failed",  # abandoned, or cancelled by the sweeper: the promo use comes back
    "charge.refunded": "refunded",
}
# pending/failed → refunded: Stripe does not promise order, and a fully refunded charge proves the payment
# happened and was returned; taking it at once keeps a late "succeeded" from leaving the purchase paid.
TRANSITIONS = frozenset(
    {
        ("pending", "paid"),
        ("pending", "failed"),
        ("failed", "paid"),
        ("paid", "refunded"),
        ("pending", "refunded"),
        ("failed", "refunded"),
    }
)


def next_status(current: str, event_type: str) -> str | None:
    """The purchase's status after the event, or None when the event must not move it (late, repeated, unknown)."""
    target = EVENT_STATUSES.get(event_type)
    return target if (current, target) in TRANSITIONS else None


def apply_event(
    *, session: Session, purchase: Purchase, event_type: str, projects: ProjectsClient | None = None
) -> str | None:
    """Move a (locked) purchase as the event says, its promo code use with it: the new status, or None when
    the event must not move it. The webhook's path, and the sweeper's when it learns the same from Stripe; a
    purchase made paid or refunded writes its webhook event (``projects`` names its project)."""
    target = next_status(purchase.status, event_type)
    if target is None:
        return None
    was = purchase.status
    if target == "failed":
        give_back_promo_code_use(session=session, purchase=purchase)
    elif purchase.status == "failed" and purchase.promo_code_id is not None:
        # The use was given back when the payment failed; the money came after all, so the code was used.
        take_promo_code_use(session=session, purchase=purchase, within_limit=False)
    if target == "refunded":
        # The database's clock: a webhook has no request time of its own to pass in.
        purchase.refunded_at = func.now()
    purchase.status = target
    session.flush()
    # purchase.refunded only after a purchase.paid: pending/failed → refunded was never paid to receivers
    if target != "refunded" or was == "paid":
        record_status_event(session=session, purchase=purchase, projects=projects)
    return target


def refund(*, session: Session, purchase: Purchase, now: dt.datetime, project_name: str | None = None) -> None:
    """Make a (locked, paid) purchase refunded by the operator (design §10): its promo code use is not given
    back — the code was used for a sale that happened, and a refund does not make it happen twice."""
    purchase.status = "refunded"
    purchase.refunded_at = now
    session.flush()
    record_status_event(session=session, purchase=purchase, project_name=project_name, at=now)


def fail_purchase(*, session: Session, purchase_id: uuid.UUID, release_key: bool = False) -> Purchase:
    """A purchase whose payment could not even start: failed, its promo code use given back.

    ``release_key`` (checkout's own failure, answered 503 or 409) frees its Idempotency-Key, so the caller's
    retry with it is a new checkout rather than the repeat of a failure.
    """
    purchase = session.get_one(Purchase, purchase_id, with_for_update=True, populate_existing=True)
    if purchase.status == "pending":
        purchase.status = "failed"
        if release_key:
            purchase.idempotency_key = None
        give_back_promo_code_use(session=session, purchase=purchase)
        session.flush()
    return purchase
