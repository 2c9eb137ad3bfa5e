"""The Stripe client against localstripe: what Stripe refuses is a 409, an unreachable Stripe a 503."""

import http.server
import json
import threading
import uuid

import pytest
import stripe

from backoffice_common.errors import Conflict, ServiceUnavailable
from commerce_service.clients.payments import Payments


def _payments(api_base):
    return Payments(
        secret_key="sk_test_unit", api_base=api_base, webhook_secret="whsec_unit", connect_timeout=0.5, read_timeout=2
    )


def test_an_intent_for_the_purchase(stripe_api_base):
    purchase_id = uuid.uuid4()
    intent = _payments(stripe_api_base).create_payment_intent(
        purchase_id=purchase_id, amount_cents=1234, currency="EUR"
    )
    assert intent.id.startswith("pi_") and intent.client_secret.startswith(intent.id)


def test_a_refused_request_is_a_conflict(stripe_api_base):
    with pytest.raises(Conflict) as refused:
        _payments(stripe_api_base).create_payment_intent(purchase_id=uuid.uuid4(), amount_cents=-5, currency="eur")
    assert refused.value.message.startswith("The payment provider refused this payment")


def test_an_unreachable_stripe_is_a_503_after_one_more_try():
    with pytest.raises(ServiceUnavailable):
        _payments("http://127.0.0.1:9").create_payment_intent(
            purchase_id=uuid.uuid4(), amount_cents=100, currency="eur"
        )


def test_the_client_secret_of_an_intent_asked_again(stripe_api_base):
    payments = _payments(stripe_api_base)
    intent = payments.create_payment_intent(purchase_id=uuid.uuid4(), amount_cents=1234, currency="eur")
    assert payments.client_secret_of(intent.id) == intent.client_secret
    assert payments.client_secret_of("pi_unknown") is None
    with pytest.raises(ServiceUnavailable):
        _payments("http://127.0.0.1:9").client_secret_of(intent.id)


def _paid_intent(stripe_api_base, amount_cents=1234):
    client = stripe.StripeClient("sk_test_unit", base_addresses={"api": stripe_api_base}, max_network_retries=0)
    intent = _payments(stripe_api_base).create_payment_intent(
        purchase_id=uuid.uuid4(), amount_cents=amount_cents, currency="eur"
    )
    card = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    client.v1.payment_intents.update(intent.id, params={"payment_method": card.id})
    assert client.v1.payment_intents.confirm(intent.id).status == "succeeded"
    return client, intent


def test_a_refund_of_the_whole_payment(stripe_api_base):
    client, intent = _paid_intent(stripe_api_base)
    purchase_id = uuid.uuid4()
    refund_id = _payments(stripe_api_base).refund_payment_intent(
        intent_id=intent.id, purchase_id=purchase_id, reason="duplicate"
    )
    refund = client.v1.refunds.retrieve(refund_id).to_dict()
    assert (refund["amount"], refund["payment_intent"], refund["reason"], refund["metadata"]) == (
        1234,
        intent.id,
        "duplicate",
        {"purchase_id": str(purchase_id)},
    )


def test_a_refund_stripe_refuses_is_a_conflict(stripe_api_base):
    unpaid = _payments(stripe_api_base).create_payment_intent(
        purchase_id=uuid.uuid4(), amount_cents=100, currency="eur"
    )
    with pytest.raises(Conflict) as refused:
        _payments(stripe_api_base).refund_payment_intent(intent_id=unpaid.id, purchase_id=uuid.uuid4(), reason=None)
    assert refused.value.message.startswith("The payment provider refused this refund")


def test_a_refund_carries_a_key_derived_from_the_purchase_and_is_retried_once_with_it():
    """Stripe's side recorded by a bare HTTP server: the first request's connection is dropped, the retry
    carries the same Idempotency-Key (so Stripe answers it with the refund it may already have made)."""
    seen = []

    class Stripe(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.path, self.headers["Idempotency-Key"]))
            if len(seen) == 1:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            body = json.dumps({"id": "re_1", "object": "refund"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stripe)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        purchase_id = uuid.uuid4()
        payments = _payments(f"http://127.0.0.1:{server.server_address[1]}")
        assert payments.refund_payment_intent(intent_id="pi_1", purchase_id=purchase_id, reason=None) == "re_1"
    finally:
        server.shutdown()
    assert seen == [("/v1/refunds", f"refund-{purchase_id}")] * 2


def test_a_refund_with_stripe_unreachable_is_a_503():
    with pytest.raises(ServiceUnavailable):
        _payments("http://127.0.0.1:9").refund_payment_intent(intent_id="pi_1", purchase_id=uuid.uuid4(), reason=None)
