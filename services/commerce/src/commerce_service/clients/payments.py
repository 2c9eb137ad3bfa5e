"""Stripe through its official library: PaymentIntents for checkout, and signed webhook events.

Only the address differs between production and dev/test (localstripe, ``STRIPE_API_BASE``).
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import stripe
from backoffice_common.errors import ServiceUnavailable
from flask import current_app

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    client_secret: str


class Payments:
    def __init__(self, *, secret_key: str, api_base: str, webhook_secret: str, connect_timeout: float = 2.0,
                 read_timeout: float = 10.0):
        self.webhook_secret = webhook_secret
        # No library retries: a retry is a new request the caller would wait for; our own answer is a quick 503.
        self.client = stripe.StripeClient(
            secret_key, base_addresses={"api": api_base.rstrip("/")}, max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=(connect_timeout, read_timeout)))

    def create_payment_intent(self, *, purchase_id: uuid.UUID, amount_cents: int, currency: str) -> PaymentIntent:
        """A PaymentIntent for a purchase (idempotency key = the purchase id); 503 when Stripe fails."""
        try:
            intent = self.client.v1.payment_intents.create(
                params={"amount": amount_cents, "currency": currency.lower(),
                        # Recent API versions enable automatic payment methods by default (localstripe refuses
                        # the explicit parameter, so it is not sent).
                        "metadata": {"purchase_id": str(purchase_id)}},
                options={"idempotency_key": str(purchase_id)})
        except stripe.StripeError as exc:
            log.warning("stripe payment intent failed: %s", exc.__class__.__name__,
                        extra={"purchase_id": str(purchase_id)})
            raise ServiceUnavailable("The payment provider is unavailable; try again shortly.") from exc
        return PaymentIntent(id=intent.id, client_secret=intent.client_secret)

    def verified_event(self, payload: bytes, signature: str | None) -> dict:
        """The event, when ``Stripe-Signature`` is valid for our webhook secret; ValueError otherwise."""
        try:
            event = stripe.Webhook.construct_event(payload, signature or "", self.webhook_secret)
        except stripe.SignatureVerificationError as exc:
            raise ValueError(str(exc)) from exc
        return event.to_dict()


def payments() -> Payments:
    return current_app.extensions["payments"]
