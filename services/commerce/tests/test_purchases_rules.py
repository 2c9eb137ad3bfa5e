"""Purchase rules as plain functions: shares of a total, and which webhook events move a purchase where."""

import itertools
import random
import uuid
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backoffice_common.errors import Conflict
from commerce_service.models import PURCHASE_STATUSES
from commerce_service.purchases.checkout import apportion, check_amounts
from commerce_service.purchases.status import EVENT_STATUSES, next_status
from commerce_service.purchases.webhooks import payment_intent_of

weights = st.dictionaries(st.uuids(), st.integers(0, 10_000), min_size=1, max_size=60)


@given(total=st.integers(0, 100_000_000), weights=weights)
def test_shares_sum_to_the_total_and_stay_within_a_cent_of_proportional(total, weights):
    shares = apportion(total, weights)
    assert set(shares) == set(weights)
    assert sum(shares.values()) == total
    weight_sum = sum(weights.values()) or len(weights)
    for key, share in shares.items():
        quota = Fraction(total * (weights[key] if sum(weights.values()) else 1), weight_sum)
        assert abs(share - quota) < 1, (key, share, quota)
        assert share >= 0


@given(total=st.integers(0, 1_000_000), weights=weights, seed=st.integers())
def test_shares_do_not_depend_on_order(total, weights, seed):
    items = list(weights.items())
    random.Random(seed).shuffle(items)
    assert apportion(total, dict(items)) == apportion(total, weights)


def test_equal_photos_split_the_left_over_cents_by_photo_id():
    photos = [uuid.UUID(int=i) for i in (3, 1, 2)]
    assert apportion(1000, {photo: 1 for photo in photos}) == {photos[1]: 334, photos[2]: 333, photos[0]: 333}
    assert apportion(2, {photo: 1 for photo in photos}) == {photos[1]: 1, photos[2]: 1, photos[0]: 0}
    assert apportion(0, {photos[0]: 1}) == {photos[0]: 0}
    assert apportion(5, {}) == {}


MOVES = {
    ("pending", "payment_intent.succeeded"): "paid",
    ("pending", "payment_intent.payment_failed"): "failed",
    ("pending", "payment_intent.canceled"): "failed",
    ("failed", "payment_intent.succeeded"): "paid",
    ("paid", "charge.refunded"): "refunded",
    ("pending", "charge.refunded"): "refunded",
    ("failed", "charge.refunded"): "refunded",
}
EVENTS = [*EVENT_STATUSES, "charge.succeeded", "payment_intent.created", "customer.created"]


@pytest.mark.parametrize("current, event", list(itertools.product(PURCHASE_STATUSES, EVENTS)))
def test_every_status_and_event_pair(current, event):
    assert next_status(current, event) == MOVES.get((current, event))


def test_a_purchase_never_moves_backwards():
    order = {"pending": 0, "failed": 0, "paid": 1, "refunded": 2}  # pending and failed are both "not paid yet"
    for current, event in itertools.product(PURCHASE_STATUSES, EVENTS):
        target = next_status(current, event)
        assert target is None or order[target] >= order[current]


def test_payment_intent_named_by_events():
    assert payment_intent_of(
        {"type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1", "metadata": {"purchase_id": "p"}}}}
    ) == ("pi_1", "p")
    assert payment_intent_of(
        {"type": "charge.refunded", "data": {"object": {"id": "ch_1", "payment_intent": "pi_2"}}}
    ) == ("pi_2", None)
    assert payment_intent_of({"type": "charge.refunded", "data": {"object": {"payment_intent": {"id": "pi_3"}}}}) == (
        "pi_3",
        None,
    )
    assert payment_intent_of({"type": "payment_intent.succeeded"}) == (None, None)


@pytest.mark.parametrize(
    "subtotal, total, refused",
    [
        (0, 0, False),
        (1000, 0, False),
        (1000, 50, False),
        (1000, 49, True),
        (1, 1, True),
        (99_999_999, 99_999_999, False),
        (100_000_000, 0, True),
        (200_000_000, 50, True),
    ],
)
def test_amounts_stripe_can_take(subtotal, total, refused):
    if refused:
        with pytest.raises(Conflict):
            check_amounts(subtotal, total)
    else:
        check_amounts(subtotal, total)
