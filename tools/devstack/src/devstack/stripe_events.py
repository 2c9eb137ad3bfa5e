"""Stripe's side of a webhook, for the tests: events about one of our purchases, signed as Stripe signs them."""

from __future__ import annotations

import json
import time
import uuid

import stripe


def event(event_type: str, obj: dict, event_id: str | None = None) -> dict:
    return {"id": event_id or f"evt_{uuid.uuid4().hex}", "object": "event", "type": event_type, "data": {"object": obj}}


def intent_event(
    event_type: str,
    purchase: dict,
    event_id: str | None = None,
    *,
    currency: str = "eur",
    amount_received: int | None = None,
) -> dict:
    """An event about a purchase's PaymentIntent (``purchase`` as our API shows it), for its total in
    ``currency`` as Stripe sends it (lower case); a succeeded intent received the total unless
    ``amount_received`` says otherwise."""
    amount = purchase.get("totalCents")
    if amount_received is None:
        amount_received = amount if event_type == "payment_intent.succeeded" else 0
    return event(
        event_type,
        {
            "id": purchase["stripePaymentIntentId"],
            "object": "payment_intent",
            "amount": amount,
            "amount_received": amount_received,
            "currency": currency,
            "metadata": {"purchase_id": purchase["id"]},
        },
        event_id,
    )


def refund_event(purchase: dict, refunded: bool = True) -> dict:
    """``charge.refunded`` for the purchase's charge (``refunded=False``: a partial refund)."""
    return event(
        "charge.refunded",
        {
            "id": f"ch_{uuid.uuid4().hex}",
            "object": "charge",
            "refunded": refunded,
            "payment_intent": purchase["stripePaymentIntentId"],
        },
    )


def signed(payload: str | dict, secret: str, timestamp: int | None = None) -> tuple[str, dict]:
    """The body and the headers Stripe sends it with: ``Stripe-Signature`` of ``payload`` at ``timestamp``."""
    body = payload if isinstance(payload, str) else json.dumps(payload)
    timestamp = timestamp or int(time.time())
    digest = stripe.WebhookSignature._compute_signature(f"{timestamp}.{body}", secret)
    return body, {"Content-Type": "application/json", "Stripe-Signature": f"t={timestamp},v1={digest}"}


def deliver(gateway, event: dict, secret: str, signature: str | None = None):
    """POST ``event`` to our webhook through the gateway as Stripe would; ``signature`` replaces the right
    one (``""``: none sent)."""
    payload, headers = signed(event, secret)
    if signature is not None:
        headers.pop("Stripe-Signature")
        headers.update({"Stripe-Signature": signature} if signature else {})
    return gateway.post("/v1/webhooks/stripe", data=payload, headers=headers)
