"""The price engine as plain functions: examples first, then properties that must hold for any input."""

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commerce_service.pricing.engine import (
    Candidate,
    choose_discount,
    compute_quote,
    discount_amount,
    discount_applies,
    percent_of,
)
from commerce_service.promo_codes.rules import promo_code_usable

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


@dataclass
class D:
    """A discount as the engine sees it (the model's attributes, nothing else)."""

    type: str = "percentage"
    value: int = 10
    bundle_min_photos: int | None = None
    is_active: bool = True
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass
class P:
    """A promo code as the engine sees it."""

    code: str = "SUMMER20"
    is_active: bool = True
    max_uses: int | None = None
    max_uses_per_user: int | None = None
    times_used: int = 0
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None
    id: uuid.UUID = field(default_factory=uuid.uuid4)


# --- examples ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, percent, expected",
    [
        (1000, 10, 100),
        (999, 10, 100),
        (994, 10, 99),
        (995, 10, 100),
        (5, 10, 1),
        (4, 10, 0),
        (1, 50, 1),
        (3, 50, 2),
        (0, 100, 0),
        (2499, 100, 2499),
        (1, 1, 0),
    ],
)
def test_percentages_round_half_up_to_the_cent(amount, percent, expected):
    assert percent_of(amount, percent) == expected


def test_fixed_discount_never_exceeds_the_subtotal():
    assert discount_amount(D(type="fixed", value=500), 300) == 300
    assert discount_amount(D(type="fixed", value=500), 3000) == 500


def test_bundle_applies_only_from_its_minimum():
    bundle = D(type="bundle", value=20, bundle_min_photos=5)
    assert not discount_applies(bundle, at=NOW, photo_count=4)
    assert discount_applies(bundle, at=NOW, photo_count=5)


@pytest.mark.parametrize(
    "discount, applies",
    [
        (D(), True),
        (D(is_active=False), False),
        (D(valid_from=NOW), True),  # from is inclusive
        (D(valid_from=NOW + HOUR), False),
        (D(valid_until=NOW), False),  # until is exclusive
        (D(valid_until=NOW + HOUR), True),
        (D(valid_from=NOW - HOUR, valid_until=NOW + HOUR), True),
    ],
)
def test_discount_window_and_activity(discount, applies):
    assert discount_applies(discount, at=NOW, photo_count=1) is applies


@pytest.mark.parametrize(
    "promo, discount, uses, usable",
    [
        (P(), D(), 0, True),
        (P(is_active=False), D(), 0, False),
        (P(valid_until=NOW), D(), 0, False),
        (P(valid_from=NOW + HOUR), D(), 0, False),
        (P(max_uses=3, times_used=2), D(), 0, True),
        (P(max_uses=3, times_used=3), D(), 0, False),
        (P(max_uses_per_user=1), D(), 0, True),
        (P(max_uses_per_user=1), D(), 1, False),
        (P(max_uses_per_user=2), D(), 1, True),
        (P(), D(is_active=False), 0, False),
        (P(), D(valid_until=NOW - HOUR), 0, False),
    ],
)
def test_promo_code_usability(promo, discount, uses, usable):
    assert promo_code_usable(promo, discount, at=NOW, uses_by_participant=uses) is usable


def test_the_largest_discount_applies():
    quote = compute_quote(
        price_per_photo_cents=1000,
        photo_count=10,
        at=NOW,
        project_discounts=[D(value=10), D(type="fixed", value=1500), D(value=5)],
    )
    assert (quote.subtotal_cents, quote.discount_applied_cents, quote.total_cents) == (10_000, 1500, 8500)
    assert quote.applied_promo_code is None


def test_on_a_tie_the_promo_code_wins():
    quote = compute_quote(
        price_per_photo_cents=1000,
        photo_count=10,
        at=NOW,
        project_discounts=[D(value=20)],
        promo_code=P(code="TWENTY"),
        promo_discount=D(type="fixed", value=2000),
    )
    assert (quote.discount_applied_cents, quote.applied_promo_code) == (2000, "TWENTY")


def test_promo_code_is_not_applied_when_a_project_discount_is_larger():
    quote = compute_quote(
        price_per_photo_cents=1000,
        photo_count=10,
        at=NOW,
        project_discounts=[D(value=30)],
        promo_code=P(),
        promo_discount=D(value=20),
    )
    assert (quote.discount_applied_cents, quote.applied_promo_code, quote.promo_code) == (3000, None, None)


def test_promo_bundle_discount_needs_its_minimum_too():
    quote = compute_quote(
        price_per_photo_cents=1000,
        photo_count=2,
        at=NOW,
        promo_code=P(),
        promo_discount=D(type="bundle", value=50, bundle_min_photos=3),
    )
    assert (quote.discount_applied_cents, quote.applied_promo_code) == (0, None)


def test_nothing_applies_to_a_free_subtotal():
    quote = compute_quote(
        price_per_photo_cents=0,
        photo_count=3,
        at=NOW,
        project_discounts=[D()],
        promo_code=P(),
        promo_discount=D(type="fixed", value=100),
    )
    assert (quote.total_cents, quote.discount_applied_cents, quote.applied_promo_code) == (0, 0, None)


def test_no_candidates():
    assert choose_discount([]) is None
    quote = compute_quote(price_per_photo_cents=499, photo_count=3, at=NOW)
    assert (quote.subtotal_cents, quote.total_cents, quote.discount_applied_cents) == (1497, 1497, 0)


# --- properties --------------------------------------------------------------------------------------------------

moments = st.one_of(st.none(), st.integers(-48, 48).map(lambda h: NOW + dt.timedelta(hours=h)))
discounts = st.builds(
    D,
    type=st.sampled_from(["percentage", "fixed", "bundle"]),
    value=st.integers(1, 100),
    bundle_min_photos=st.integers(2, 20),
    is_active=st.booleans(),
    valid_from=moments,
    valid_until=moments,
).map(
    lambda d: D(
        type=d.type,
        value=d.value * (137 if d.type == "fixed" else 1),
        bundle_min_photos=d.bundle_min_photos if d.type == "bundle" else None,
        is_active=d.is_active,
        valid_from=d.valid_from,
        valid_until=d.valid_until,
    )
)
prices = st.integers(0, 100_000)
counts = st.integers(1, 500)


@settings(max_examples=300)
@given(price=prices, n=counts, linked=st.lists(discounts, max_size=6), promo=st.one_of(st.none(), discounts))
def test_quote_invariants(price, n, linked, promo):
    quote = compute_quote(
        price_per_photo_cents=price,
        photo_count=n,
        at=NOW,
        project_discounts=linked,
        promo_code=P() if promo else None,
        promo_discount=promo,
    )
    assert quote.subtotal_cents == price * n
    assert 0 <= quote.discount_applied_cents <= quote.subtotal_cents
    assert quote.total_cents == quote.subtotal_cents - quote.discount_applied_cents >= 0
    # The chosen discount is the best candidate: no applicable discount takes off more.
    applicable = [d for d in linked + ([promo] if promo else []) if discount_applies(d, at=NOW, photo_count=n)]
    best = max((discount_amount(d, quote.subtotal_cents) for d in applicable), default=0)
    assert quote.discount_applied_cents == best
    # The promo code is named only when its discount is the one applied.
    if quote.applied_promo_code is not None:
        assert discount_amount(promo, quote.subtotal_cents) == best > 0


@settings(max_examples=200)
@given(
    price=prices,
    n=counts,
    linked=st.lists(discounts, max_size=6),
    promo=st.one_of(st.none(), discounts),
    seed=st.integers(),
)
def test_result_does_not_depend_on_candidate_order(price, n, linked, promo, seed):
    shuffled = list(linked)
    random.Random(seed).shuffle(shuffled)
    code = P() if promo else None
    quotes = [
        compute_quote(
            price_per_photo_cents=price,
            photo_count=n,
            at=NOW,
            project_discounts=order,
            promo_code=code,
            promo_discount=promo,
        )
        for order in (linked, shuffled)
    ]
    assert quotes[0] == quotes[1]


@given(amounts=st.lists(st.integers(0, 10_000), min_size=1, max_size=8), promo_index=st.integers(0, 7))
def test_choose_discount_prefers_the_promo_code_on_a_tie(amounts, promo_index):
    promo_index %= len(amounts)
    candidates = [Candidate(D(), amount, P() if i == promo_index else None) for i, amount in enumerate(amounts)]
    chosen = choose_discount(candidates)
    if max(amounts) == 0:
        assert chosen is None
        return
    assert chosen.amount_cents == max(amounts)
    if amounts[promo_index] == max(amounts):
        assert chosen.promo_code is not None


@given(amount=st.integers(0, 10**9), percent=st.integers(0, 100))
def test_percent_of_is_exact_half_up(amount, percent):
    exact = (Decimal(amount) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert percent_of(amount, percent) == int(exact)
    assert 0 <= percent_of(amount, percent) <= amount
