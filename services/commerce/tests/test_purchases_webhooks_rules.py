"""Issue 9 item 5 as a plain rule: a succeeded PaymentIntent pays a purchase only for exactly its total in its
currency (the webhook's event object, or the intent the sweeper retrieved)."""

from types import SimpleNamespace

import pytest

from commerce_service.purchases.webhooks import paid_in_full

PURCHASE = SimpleNamespace(total_cents=1500, currency="CHF")


def _intent(**obj):
    return {"id": "pi_1", "status": "succeeded", **obj}


@pytest.mark.parametrize(
    "obj, paid",
    [
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
    ],
)
def test_only_the_exact_total_in_the_purchase_currency_pays(obj, paid):
    assert paid_in_full(_intent(**obj), PURCHASE) is paid


def test_no_intent_pays_nothing():
    assert paid_in_full(None, PURCHASE) is False
    assert paid_in_full({}, PURCHASE) is False
