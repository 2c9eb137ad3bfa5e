"""Stripe through its official library: PaymentIntents for checkout, Refunds, and signed webhook events.

Only the address differs between production and dev/test (localstripe, ``STRIPE_API_BASE``).
"""

from __future__ import annotations

import logging
import sys
import uuid
from dataclasses import dataclass

from backoffice_common.errors import Conflict, ServiceUnavailable
from backoffice_common.metrics import outcome_counter

# stripe chooses an async HTTP client as it is imported (httpx with anyio, else aiohttp) and imports it there and
# then, though we only ever use its sync RequestsClient: aiohttp alone is ~9.5 MB in every commerce worker wherever
# it is installed (the dev and test virtualenv has it, for localstripe). Hidden while stripe is imported, stripe
# settles for no async client (one that raises if ever used); anything importing aiohttp later still gets it.
if "aiohttp" in sys.modules:
    import stripe
else:
    sys.modules["aiohttp"] = None  # type: ignore[assignment]  # None in sys.modules: "import aiohttp" fails
    try:
        import stripe
    finally:
        del sys.modules["aiohttp"]

log = logging.getLogger(__name__)

STRIPE_UNAVAILABLE = "The payment provider is unavailable; try again shortly."
# Outcomes: ok, refused (Stripe said no: a 409, or a cancel it declines), not_found, unavailable (a 503).
STRIPE_CALLS = outcome_counter("stripe_calls_total", "Calls to Stripe by operation and outcome.")


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    client_secret: str


class Payments:
    def __init__(
        self,
        *,
        secret_key: str,
        api_base: str,
        webhook_secret: str,
        connect_timeout: float = 2.0,
        read_timeout: float = 10.0,
    ):
        self.webhook_secret = webhook_secret
        # No library retries: a retry is a new request the caller would wait for; our own answer is a quick 503.
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=(connect_timeout, read_timeout)),
        )

    @classmethod
    def from_settings(cls, settings) -> Payments:
        """Stripe as the settings name it: the app's and the worker's."""
        return cls(
            secret_key=settings.stripe_secret_key,
            api_base=settings.stripe_api_base,
            webhook_secret=settings.stripe_webhook_secret,
            connect_timeout=settings.stripe_timeout_connect_s,
            read_timeout=settings.stripe_timeout_read_s,
        )

    def create_payment_intent(self, *, purchase_id: uuid.UUID, amount_cents: int, currency: str) -> PaymentIntent:
        """A PaymentIntent for a purchase (idempotency key = the purchase id); see ``_create`` for failures."""
        intent = self._create(
            "create_payment_intent",
            lambda: self.client.v1.payment_intents.create(
                params={
                    "amount": amount_cents,
                    "currency": currency.lower(),
                    # Recent API versions enable automatic payment methods by default (localstripe
                    # refuses the explicit parameter, so it is not sent).
                    "metadata": {"purchase_id": str(purchase_id)},
                },
                options={"idempotency_key": str(purchase_id)},
            ),
            refused="The payment provider refused this payment: {reason}.",
            default_reason="the amount or currency is not accepted",
            extra={"purchase_id": str(purchase_id)},
        )
        return PaymentIntent(id=intent.id, client_secret=intent.client_secret)

    def refund_payment_intent(self, *, intent_id: str, purchase_id: uuid.UUID, reason: str | None) -> str:
        """Refund a PaymentIntent in full: the Refund's id. The idempotency key is derived from the purchase, so a
        retry (ours, or the operator's after a timeout) is answered with the same Refund, never a second one."""
        params: stripe.params.RefundCreateParams = {
            "payment_intent": intent_id,
            "metadata": {"purchase_id": str(purchase_id)},
        }
        if reason is not None:
            params["reason"] = reason
        refund = self._create(
            "refund_payment_intent",
            lambda: self.client.v1.refunds.create(params=params, options={"idempotency_key": f"refund-{purchase_id}"}),
            refused="The payment provider refused this refund: {reason}.",
            default_reason="the payment cannot be refunded",
            extra={"purchase_id": str(purchase_id), "payment_intent_id": intent_id},
        )
        return refund.id

    def _create(self, operation: str, create, *, refused: str, default_reason: str, extra: dict):
        """Make something at Stripe under an idempotency key. A connection failure is tried once more with the same
        key — Stripe then answers with what it may already have made — and is a 503 after that; a request Stripe
        refuses (an amount it won't charge, a charge already refunded) is a 409, as trying again would not help.
        Every outcome is counted in ``stripe_calls_total``."""
        failure: stripe.StripeError
        for attempt in (1, 2):
            try:
                made = create()
                STRIPE_CALLS.labels(operation, "ok").inc()
                return made
            except stripe.APIConnectionError as exc:
                failure = exc
                if attempt == 2:
                    break
            except (stripe.InvalidRequestError, stripe.CardError) as exc:
                log.warning("stripe refused %s: %s", operation, exc.user_message or exc.__class__.__name__, extra=extra)
                STRIPE_CALLS.labels(operation, "refused").inc()
                raise Conflict(refused.format(reason=exc.user_message or default_reason)) from exc
            except stripe.StripeError as exc:
                failure = exc
                break
        log.warning("stripe %s failed: %s", operation, failure.__class__.__name__, extra=extra)
        STRIPE_CALLS.labels(operation, "unavailable").inc()
        raise ServiceUnavailable(STRIPE_UNAVAILABLE) from failure

    def verified_event(self, payload: bytes, signature: str | None) -> dict:
        """The event, when ``Stripe-Signature`` is valid for our webhook secret; ValueError otherwise."""
        try:
            event = stripe.Webhook.construct_event(payload, signature or "", self.webhook_secret)
        except stripe.SignatureVerificationError as exc:
            raise ValueError(str(exc)) from exc
        return event.to_dict()

    def cancel_payment_intent(self, intent_id: str) -> bool:
        """Cancel a PaymentIntent (the sweeper's, for an abandoned purchase): True when cancelled, False when
        Stripe refuses — it succeeded, is processing, is already cancelled or is unknown; ask
        ``payment_intent`` which. ServiceUnavailable when Stripe can't be reached."""
        try:
            # No cancellation_reason: localstripe refuses any parameter here.
            self.client.v1.payment_intents.cancel(intent_id)
        except stripe.InvalidRequestError as exc:
            log.info(
                "stripe refused to cancel a payment intent: %s",
                exc.user_message or exc.__class__.__name__,
                extra={"payment_intent_id": intent_id},
            )
            STRIPE_CALLS.labels("cancel_payment_intent", "refused").inc()
            return False
        except stripe.StripeError as exc:
            log.warning(
                "stripe payment intent cancel failed: %s",
                exc.__class__.__name__,
                extra={"payment_intent_id": intent_id},
            )
            STRIPE_CALLS.labels("cancel_payment_intent", "unavailable").inc()
            raise ServiceUnavailable(STRIPE_UNAVAILABLE) from exc
        STRIPE_CALLS.labels("cancel_payment_intent", "ok").inc()
        return True

    def payment_intent(self, intent_id: str) -> dict | None:
        """A PaymentIntent as Stripe has it (``status``, ``amount_received``, ``currency``…), or None when Stripe
        does not know it. ServiceUnavailable when Stripe can't be reached."""
        intent = self._retrieve(intent_id)
        return None if intent is None else intent.to_dict()

    def client_secret_of(self, intent_id: str) -> str | None:
        """A PaymentIntent's client secret, asked of Stripe again (a repeated checkout's answer; secrets are not
        stored), or None when Stripe does not know the intent. ServiceUnavailable when Stripe can't be reached."""
        intent = self._retrieve(intent_id)
        if intent is None:
            log.warning("stripe does not know a purchase's payment intent", extra={"payment_intent_id": intent_id})
            return None
        return intent.client_secret

    def _retrieve(self, intent_id: str):
        """The PaymentIntent as Stripe has it, or None when Stripe does not know it."""
        failure: stripe.StripeError
        try:
            intent = self.client.v1.payment_intents.retrieve(intent_id)
            STRIPE_CALLS.labels("retrieve_payment_intent", "ok").inc()
            return intent
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                STRIPE_CALLS.labels("retrieve_payment_intent", "not_found").inc()
                return None
            failure = exc
        except stripe.StripeError as exc:
            failure = exc
        log.warning(
            "stripe payment intent retrieve failed: %s",
            failure.__class__.__name__,
            extra={"payment_intent_id": intent_id},
        )
        STRIPE_CALLS.labels("retrieve_payment_intent", "unavailable").inc()
        raise ServiceUnavailable(STRIPE_UNAVAILABLE) from failure
