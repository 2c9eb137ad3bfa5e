"""Pending purchases nobody is going to pay: settled by the commerce worker (design §6, decisions "Purchases").

Checkout commits a pending purchase, with its promo code use, before it asks Stripe for a PaymentIntent. It
stays pending when the participant abandons the payment page (Stripe sends nothing) or the process died
between the two commits (no PaymentIntent stored). Once older than the TTL such a purchase is settled:

- no PaymentIntent → failed, its promo code use given back;
- a PaymentIntent → cancelled at Stripe, then failed with its use given back; when Stripe refuses because the
  intent succeeded, the purchase is paid as the webhook would have made it (a lost webhook, healed) — only
  when the intent received exactly its total in its currency, as the webhook checks; a succeeded intent that
  took anything else is logged as an error and left pending, as the webhook leaves it (at the back of the
  queue); when the intent is already cancelled or unknown to Stripe → failed; processing or anything else →
  the next round.

No row lock is held across Stripe: the purchases are claimed (``FOR UPDATE SKIP LOCKED``, so several workers
share the work) in one short transaction, and each outcome is applied in its own that re-reads the purchase
locked and acts only while it is still pending with the same intent (a webhook may have moved it meanwhile).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backoffice_common.errors import ServiceUnavailable
from commerce_service.clients.payments import Payments
from commerce_service.clients.projects import ProjectsClient
from commerce_service.models import Purchase
from commerce_service.purchases.checkout import UnitOfWork
from commerce_service.purchases.status import apply_event, fail_purchase
from commerce_service.purchases.webhooks import log_unpaid_success, paid_in_full

log = logging.getLogger(__name__)

# What the sweeper learnt from Stripe, named as the webhook event that would have told us.
SUCCEEDED = "payment_intent.succeeded"
CANCELED = "payment_intent.canceled"


def expire_stale_purchases(
    *,
    unit_of_work: UnitOfWork,
    payments: Payments,
    older_than: dt.timedelta,
    limit: int = 100,
    stopping: Callable[[], bool] = lambda: False,
    projects: ProjectsClient | None = None,
) -> int:
    """Settle up to ``limit`` pending purchases created before ``now() - older_than`` (database time), least
    recently looked at first; returns how many were moved (failed or paid). Stripe unreachable → the rest wait
    for the next round, and so do they when ``stopping()`` turns true (a worker asked to stop doesn't finish
    100 Stripe calls first). ``projects`` names the project in the webhook event of a purchase found paid."""
    moved = 0
    with unit_of_work() as session:
        claimed = claim_stale_purchases(session=session, older_than=older_than, limit=limit)
        for purchase_id, intent_id in claimed:
            if intent_id is None:  # the process died before Stripe answered: nothing can be paid
                fail_purchase(session=session, purchase_id=purchase_id)
                log.info("stale purchase expired", extra={"purchase_id": str(purchase_id), "status": "failed"})
                moved += 1
    for purchase_id, intent_id in claimed:
        if intent_id is None:
            continue
        if stopping():
            break
        try:
            outcome, intent = stripe_outcome(payments, intent_id)
        except ServiceUnavailable:
            log.warning(
                "stripe unavailable: stale purchases left for the next round", extra={"purchase_id": str(purchase_id)}
            )
            break
        if outcome is None:
            with unit_of_work() as session:
                mark_undecided(session=session, purchase_id=purchase_id)
            continue
        with unit_of_work() as session:
            status = settle(
                session=session,
                purchase_id=purchase_id,
                intent_id=intent_id,
                outcome=outcome,
                intent=intent,
                projects=projects,
            )
        if status is not None:
            log.info(
                "stale purchase expired",
                extra={"purchase_id": str(purchase_id), "status": status, "payment_intent_id": intent_id},
            )
            moved += 1
    return moved


def claim_stale_purchases(
    *, session: Session, older_than: dt.timedelta, limit: int
) -> list[tuple[uuid.UUID, str | None]]:
    """(id, PaymentIntent id) of the stale pending purchases looked at least recently (then oldest first),
    locked; rows another transaction holds (a webhook, another worker) are skipped."""
    return [
        (purchase_id, intent_id)
        for purchase_id, intent_id in session.execute(
            select(Purchase.id, Purchase.stripe_payment_intent_id)
            .where(Purchase.status == "pending", Purchase.created_at < func.now() - older_than)
            .order_by(Purchase.updated_at, Purchase.created_at, Purchase.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ]


def mark_undecided(*, session: Session, purchase_id: uuid.UUID) -> None:
    """Send a purchase whose intent Stripe has not decided (processing, say) to the back of the queue, so a
    batch of them can't keep the sweeper from the stale purchases behind them. Wall-clock time, not the
    transaction's: the mark must sort after everything not yet looked at."""
    session.execute(
        update(Purchase)
        .where(Purchase.id == purchase_id, Purchase.status == "pending")
        .values(updated_at=func.clock_timestamp())
    )


def stripe_outcome(payments: Payments, intent_id: str) -> tuple[str | None, dict | None]:
    """Cancel the intent; the event it amounts to (cancelled or succeeded, None when it is still undecided —
    processing, say) and the intent as Stripe has it when it had to be asked. ServiceUnavailable when Stripe
    can't be reached."""
    if payments.cancel_payment_intent(intent_id):
        return CANCELED, None
    intent = payments.payment_intent(intent_id)
    status = None if intent is None else intent.get("status")
    if status == "succeeded":
        return SUCCEEDED, intent
    if status in ("canceled", None):  # cancelled already (its webhook lost), or unknown to Stripe: never paid
        return CANCELED, intent
    log.info(
        "stale purchase's payment intent still undecided",
        extra={"payment_intent_id": intent_id, "intent_status": status},
    )
    return None, intent


def settle(
    *,
    session: Session,
    purchase_id: uuid.UUID,
    intent_id: str,
    outcome: str,
    intent: dict | None = None,
    projects: ProjectsClient | None = None,
) -> str | None:
    """Apply Stripe's answer to the purchase if it is still pending on that intent; its new status, or None."""
    purchase = session.get(Purchase, purchase_id, with_for_update=True, populate_existing=True)
    if purchase is None or purchase.status != "pending" or purchase.stripe_payment_intent_id != intent_id:
        return None  # a webhook moved it meanwhile (or another worker did)
    if outcome == SUCCEEDED and not paid_in_full(intent, purchase):
        # What the webhook does with the same intent: nothing moves, and someone has to look at the payment.
        # To the back of the queue, like an undecided intent, so it can't hold up the stale purchases behind it.
        log_unpaid_success(purchase, intent or {})
        mark_undecided(session=session, purchase_id=purchase_id)
        return None
    # The move the webhook would have made: cancelled → failed, the promo use given back; succeeded → paid,
    # keeping the use taken at checkout.
    return apply_event(session=session, purchase=purchase, event_type=outcome, projects=projects)
