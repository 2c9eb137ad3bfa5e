"""Stripe's signed webhooks (design §6): each event applied once, through the status machine; a payment counts
only for exactly its purchase's total in its currency."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from backoffice_common.errors import DomainError
from commerce_service.clients.payments import Payments
from commerce_service.clients.projects import ProjectsClient
from commerce_service.models import Purchase, StripeEvent
from commerce_service.purchases.status import EVENT_STATUSES, apply_event

log = logging.getLogger(__name__)


class InvalidSignature(DomainError):
    status_code = 400
    default_message = "The Stripe-Signature header is missing or does not match the payload."


def payment_intent_of(event: dict) -> tuple[str | None, str | None]:
    """(PaymentIntent id, our purchase id from its metadata) named by an event, as far as it names them."""
    obj = (event.get("data") or {}).get("object") or {}
    if event.get("type", "").startswith("charge."):
        intent = obj.get("payment_intent")
        return (intent.get("id") if isinstance(intent, dict) else intent), None
    return obj.get("id"), (obj.get("metadata") or {}).get("purchase_id")


def paid_in_full(intent: dict | None, purchase: Purchase) -> bool:
    """Whether a succeeded PaymentIntent (an event's object, or the intent as the sweeper retrieved it) received
    exactly the purchase's total in its currency: an intent that took another amount (changed after checkout,
    captured in part, or not ours to begin with) is not this purchase paid, whatever its status says."""
    intent = intent or {}
    received, currency = intent.get("amount_received"), intent.get("currency")
    return (
        type(received) is int
        and received == purchase.total_cents
        and isinstance(currency, str)
        and currency.lower() == purchase.currency.lower()
    )


def log_unpaid_success(purchase: Purchase, intent: dict, **extra) -> None:
    """The ERROR someone has to act on: Stripe says the intent succeeded, but not for this purchase's total."""
    log.error(
        "stripe payment does not match its purchase: the purchase does not move",
        extra={
            **extra,
            "purchase_id": str(purchase.id),
            "payment_intent_id": intent.get("id"),
            "amount_received": intent.get("amount_received"),
            "currency": intent.get("currency"),
            "total_cents": purchase.total_cents,
            "purchase_currency": purchase.currency,
        },
    )


def is_full_refund(event: dict) -> bool:
    """``charge.refunded`` fires on partial refunds too; only a fully refunded charge refunds the purchase."""
    return bool(((event.get("data") or {}).get("object") or {}).get("refunded"))


def handle_webhook(
    *,
    session: Session,
    payments: Payments,
    payload: bytes,
    signature: str | None,
    projects: ProjectsClient | None = None,
) -> None:
    """Verify a Stripe event and apply it once (400 when the signature is bad; anything else is a 200)."""
    try:
        event = payments.verified_event(payload, signature)
    except ValueError as exc:
        raise InvalidSignature(f"The event could not be verified: {exc}") from exc
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise InvalidSignature("The event has no id or type.")
    first_time = session.execute(
        insert(StripeEvent)
        .values(id=event["id"], type=event["type"])
        .on_conflict_do_nothing()
        .returning(StripeEvent.id)
    ).first()
    if first_time is None:
        return  # a repeated delivery: already applied (or being applied by a concurrent one, which we waited for)
    if event["type"] not in EVENT_STATUSES or (event["type"] == "charge.refunded" and not is_full_refund(event)):
        return
    purchase = find_purchase(session=session, event=event)
    if purchase is None:
        log.warning("stripe event for no purchase of ours", extra={"event_id": event["id"]})
        return
    intent = (event.get("data") or {}).get("object") or {}
    if event["type"] == "payment_intent.succeeded" and not paid_in_full(intent, purchase):
        # Answered 200 like every event we can't act on: Stripe would only redeliver the same amount. The
        # event stays recorded (so a redelivery is a no-op) and someone has to look at the payment.
        log_unpaid_success(purchase, intent, event_id=event["id"])
        return
    if purchase.stripe_payment_intent_id is None:
        # Found by its metadata: the intent becomes the purchase's only now the event is accepted.
        purchase.stripe_payment_intent_id = payment_intent_of(event)[0]
    apply_event(session=session, purchase=purchase, event_type=event["type"], projects=projects)


def find_purchase(*, session: Session, event: dict) -> Purchase | None:
    """The event's purchase, locked: by PaymentIntent id, else by the purchase id in the intent's metadata
    (an intent whose id checkout never got to store, e.g. Stripe answered too late; ``handle_webhook`` binds
    the intent to it once it accepts the event)."""
    intent_id, purchase_id = payment_intent_of(event)
    if not intent_id:
        return None
    purchase = session.scalar(select(Purchase).where(Purchase.stripe_payment_intent_id == intent_id).with_for_update())
    if purchase is not None or not purchase_id:
        return purchase
    try:
        key = uuid.UUID(purchase_id)
    except ValueError:
        return None
    purchase = session.get(Purchase, key, with_for_update=True)
    if purchase is None or purchase.stripe_payment_intent_id not in (None, intent_id):
        return None
    return purchase
