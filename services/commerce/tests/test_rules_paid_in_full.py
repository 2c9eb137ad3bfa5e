"""Issue 9 item 5 as a plain rule: a succeeded PaymentIntent pays a purchase only for exactly its total in its
currency."""
from types import SimpleNamespace

import pytest

from commerce_service.services.payments import paid_in_full

PURCHASE = SimpleNamespace(total_cents=1500, currency="CHF")


def _succeeded(**obj):
    return {"type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1", **obj}}}


@pytest.mark.parametrize("obj, paid", [
    ({"amount_received": 1500, "currency": "chf"}, True),
    ({"amount_received": 1500, "currency": "CHF"}, True),
    ({"amount_received": 1499, "currency": "chf"}, False),
    ({"amount_received": 1501, "currency": "chf"}, False),
    ({"amount_received": 0, "currency": "chf"}, False),
    ({"amount_received": 1500, "currency": "eur"}, False),
    ({"amount_received": 1500.0, "currency": "chf"}, False),
    ({"amount_received": "1500", "currency": "chf"}, False),
    ({"amount_received": True, "currency": "chf"}, False),
    ({"amount_received": 1500}, False),
    ({"currency": "chf"}, False),
    ({"amount_received": 1500, "currency": None}, False),
])
def test_only_the_exact_total_in_the_purchase_currency_pays(obj, paid):
    assert paid_in_full(_succeeded(**obj), PURCHASE) is paid


def test_an_event_without_an_object_pays_nothing():
    assert paid_in_full({"type": "payment_intent.succeeded"}, PURCHASE) is False
    assert paid_in_full({"type": "payment_intent.succeeded", "data": {"object": None}}, PURCHASE) is False
