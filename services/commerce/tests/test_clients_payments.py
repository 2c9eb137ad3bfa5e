"""The Stripe client against localstripe: what Stripe refuses is a 409, an unreachable Stripe a 503."""
import uuid

import pytest
from backoffice_common.errors import Conflict, ServiceUnavailable

from commerce_service.clients.payments import Payments


def _payments(api_base):
    return Payments(secret_key="sk_test_unit", api_base=api_base, webhook_secret="whsec_unit", connect_timeout=0.5,
                    read_timeout=2)


def test_an_intent_for_the_purchase(stripe_api_base):
    purchase_id = uuid.uuid4()
    intent = _payments(stripe_api_base).create_payment_intent(purchase_id=purchase_id, amount_cents=1234,
                                                              currency="EUR")
    assert intent.id.startswith("pi_") and intent.client_secret.startswith(intent.id)


def test_a_refused_request_is_a_conflict(stripe_api_base):
    with pytest.raises(Conflict) as refused:
        _payments(stripe_api_base).create_payment_intent(purchase_id=uuid.uuid4(), amount_cents=-5, currency="eur")
    assert refused.value.message.startswith("The payment provider refused this payment")


def test_an_unreachable_stripe_is_a_503_after_one_more_try():
    with pytest.raises(ServiceUnavailable):
        _payments("http://127.0.0.1:9").create_payment_intent(purchase_id=uuid.uuid4(), amount_cents=100,
                                                              currency="eur")


def test_the_client_secret_of_an_intent_asked_again(stripe_api_base):
    payments = _payments(stripe_api_base)
    intent = payments.create_payment_intent(purchase_id=uuid.uuid4(), amount_cents=1234, currency="eur")
    assert payments.client_secret_of(intent.id) == intent.client_secret
    assert payments.client_secret_of("pi_unknown") is None
    with pytest.raises(ServiceUnavailable):
        _payments("http://127.0.0.1:9").client_secret_of(intent.id)
