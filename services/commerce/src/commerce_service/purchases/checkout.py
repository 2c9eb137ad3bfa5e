"""Checkout (design §6): a purchase priced by the engine, its promo code use, photographers' shares, the
Idempotency-Key's repeats, and its PaymentIntent.

Checkout is the one command that commits twice, on purpose: the pending purchase
(with its promo code use) is committed *before* Stripe is called, so no row lock
is held across the network and the PaymentIntent's idempotency key (the purchase
id) names something that exists. If Stripe fails, a second unit of work marks the
purchase failed and gives the promo code use back, and the caller gets a 503:
nothing is left pending.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Hashable, Mapping

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice_common.db import UnitOfWork
from backoffice_common.errors import Conflict, ServiceUnavailable
from commerce_service.clients.auth import AuthClient
from commerce_service.clients.payments import STRIPE_UNAVAILABLE, Payments
from commerce_service.clients.projects import CheckoutFacts, ProjectsClient
from commerce_service.models import Purchase, PurchaseItem
from commerce_service.pricing.engine import quote_for
from commerce_service.projects.rules import check_checkout
from commerce_service.promo_codes.rules import lock_promo_code, normalise_code, take_promo_code_use
from commerce_service.purchases.events import record_status_event
from commerce_service.purchases.listing import PurchaseDetail, purchase_photo_ids
from commerce_service.purchases.status import fail_purchase

log = logging.getLogger(__name__)


# Stripe charges at least about 0.50 of the main currency unit and at most 99,999,999 minor units; an amount
# outside that would fail at Stripe on every attempt, so checkout refuses it before writing anything.
MIN_CHARGE_CENTS = 50
MAX_CHARGE_CENTS = 99_999_999


def check_amounts(subtotal_cents: int, total_cents: int) -> None:
    """A purchase Stripe can take: free, or a total within its limits (and a subtotal our columns hold)."""
    if subtotal_cents > MAX_CHARGE_CENTS:
        raise Conflict(
            f"A purchase may come to at most {MAX_CHARGE_CENTS} cents before discounts; buy fewer photos at once."
        )
    if 0 < total_cents < MIN_CHARGE_CENTS:
        raise Conflict(
            f"A purchase of {total_cents} cents is below the payment provider's minimum of "
            f"{MIN_CHARGE_CENTS}; it can be free or at least {MIN_CHARGE_CENTS} cents."
        )


# --- the rules, as plain functions -------------------------------------------------------------------------------


def apportion(total_cents: int, weights: Mapping[Hashable, int]) -> dict[Hashable, int]:
    """Split ``total_cents`` in proportion to ``weights`` so the parts sum exactly to it (largest remainder).

    Each part is its proportional quota rounded down or up, so within one cent of it. The cents left over
    after rounding down go to the largest remainders, ties broken by key (so the answer never depends on the
    order of ``weights``). Weights of all zero split evenly.
    """
    if not weights:
        return {}
    if sum(weights.values()) == 0:
        weights = {key: 1 for key in weights}
    weight_sum = sum(weights.values())
    parts = {key: total_cents * weight // weight_sum for key, weight in weights.items()}
    left = total_cents - sum(parts.values())
    by_remainder = sorted(weights, key=lambda key: (-(total_cents * weights[key] % weight_sum), str(key)))
    for key in by_remainder[:left]:
        parts[key] += 1
    return parts


# --- checkout ----------------------------------------------------------------------------------------------------


def checkout(
    *,
    unit_of_work: UnitOfWork,
    projects: ProjectsClient,
    auth: AuthClient,
    payments: Payments,
    project_id: uuid.UUID,
    participant: dict,
    photo_ids: list[uuid.UUID],
    promo_code: str | None = None,
    key_ttl: dt.timedelta,
    now: dt.datetime,
    idempotency_key: str | None = None,
) -> tuple[PurchaseDetail, bool]:
    """Buy photos: a pending purchase and its Stripe PaymentIntent, or a paid purchase when the total is 0.

    The purchase and whether it is new (201) or the repeat of an ``idempotency_key``'s checkout (200). A key the
    participant used within ``key_ttl`` is looked up before anything else: the same request gets that purchase
    again (409 for another request); of two first tries at once, the unique index lets one write and the other
    answers as a repeat. A key older than ``key_ttl`` is released first, so it makes a new purchase; so is a
    key whose payment could not even start (Stripe down or refusing), so retrying it is a new checkout.
    """
    request = (project_id, frozenset(photo_ids), requested_code(promo_code))
    if idempotency_key is not None:
        with unit_of_work() as session:
            release_expired_key(session=session, participant_id=participant["id"], key=idempotency_key, ttl=key_ttl)
            previous = keyed_purchase(session=session, participant_id=participant["id"], key=idempotency_key)
        if previous is not None:
            return repeat(payments, *previous, request=request), False
    facts = check_checkout(projects.checkout_facts(project_id, participant["id"], photo_ids), photo_ids)
    currency = auth.operator_currency(facts.project.operator_id)
    with unit_of_work() as session:
        try:
            with session.begin_nested():
                purchase = open_purchase(
                    session=session,
                    facts=facts,
                    participant=participant,
                    photo_ids=photo_ids,
                    promo_code=promo_code,
                    currency=currency,
                    idempotency_key=idempotency_key,
                    now=now,
                )
        except IntegrityError as exc:
            if idempotency_key is None or constraint_of(exc) != IDEMPOTENCY_KEY_INDEX:
                raise
            # Another try with this key committed first (we waited for it at the index): ours, with its promo
            # code use, went with the savepoint.
            previous = keyed_purchase(session=session, participant_id=participant["id"], key=idempotency_key)
            if previous is None:  # and its payment could not start, which freed the key again
                raise ServiceUnavailable(STRIPE_UNAVAILABLE) from exc
        else:
            previous = None
            downloads = purchase_photo_ids(session=session, purchase_id=purchase.id)
    if previous is not None:
        return repeat(payments, *previous, request=request), False
    if purchase.status == "paid":
        return PurchaseDetail(purchase, project_name=purchase.project_name, downloads=downloads), True
    try:
        intent = payments.create_payment_intent(
            purchase_id=purchase.id, amount_cents=purchase.total_cents, currency=purchase.currency
        )
    except (ServiceUnavailable, Conflict):
        with unit_of_work() as session:
            fail_purchase(session=session, purchase_id=purchase.id, release_key=True)
        raise
    with unit_of_work() as session:
        purchase = attach_payment_intent(session=session, purchase_id=purchase.id, payment_intent_id=intent.id)
    return PurchaseDetail(
        purchase, project_name=purchase.project_name, downloads=downloads, client_secret=intent.client_secret
    ), True


# --- a repeated checkout (Idempotency-Key) -------------------------------------------------------------------------

IDEMPOTENCY_KEY_INDEX = "uq_purchases_participant_id_idempotency_key"
OTHER_REQUEST = "This Idempotency-Key was used for a different checkout."


def release_expired_key(*, session: Session, participant_id: uuid.UUID, key: str, ttl: dt.timedelta) -> None:
    """Free the participant's Idempotency-Key when the purchase holding it was made more than ``ttl`` ago
    (database time, like the sweeper's): the key then names a new checkout, as at Stripe after 24 hours.
    The purchase itself stays as it is, without its key."""
    session.execute(
        update(Purchase)
        .where(
            Purchase.participant_id == participant_id,
            Purchase.idempotency_key == key,
            Purchase.created_at < func.now() - ttl,
        )
        .values(idempotency_key=None)
        .execution_options(synchronize_session=False)
    )


def requested_code(promo_code: str | None) -> str | None:
    """The promo code a checkout asked for, as it is looked up (blank = none)."""
    return (normalise_code(promo_code) or None) if promo_code else None


def constraint_of(exc: IntegrityError) -> str | None:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


def keyed_purchase(*, session: Session, participant_id: uuid.UUID, key: str) -> tuple[Purchase, list[uuid.UUID]] | None:
    """The participant's purchase made with this Idempotency-Key, and its photos; None when there is none."""
    purchase = session.scalar(
        select(Purchase)
        .where(Purchase.participant_id == participant_id, Purchase.idempotency_key == key)
        .execution_options(populate_existing=True)
    )
    if purchase is None:
        return None
    return purchase, purchase_photo_ids(session=session, purchase_id=purchase.id)


def repeat(payments: Payments, purchase: Purchase, downloads: list[uuid.UUID], *, request: tuple) -> PurchaseDetail:
    """The answer to a checkout repeated with its Idempotency-Key: the purchase as it stands, with the client
    secret Stripe keeps for its intent while it can still be paid (409 when the key was used for another
    request). A purchase whose first try has not stored its intent yet has none to give."""
    if request != (purchase.project_id, frozenset(downloads), purchase.requested_promo_code):
        raise Conflict(OTHER_REQUEST)
    client_secret = None
    if purchase.status == "pending" and purchase.stripe_payment_intent_id is not None:
        client_secret = payments.client_secret_of(purchase.stripe_payment_intent_id)
    return PurchaseDetail(
        purchase, project_name=purchase.project_name, downloads=downloads, client_secret=client_secret
    )


def open_purchase(
    *,
    session: Session,
    facts: CheckoutFacts,
    participant: dict,
    photo_ids: list[uuid.UUID],
    promo_code: str | None,
    currency: str,
    now: dt.datetime,
    idempotency_key: str | None = None,
) -> Purchase:
    """Price the photos, take the promo code's use if its discount applies, and add the purchase and its items.

    The promo code's row is locked first, so its limits (``maxUses`` and, counted from redemptions,
    ``maxUsesPerUser``) are judged on what concurrent checkouts have committed; the use itself is a
    conditional update under ``maxUses`` as well.
    """
    operator_id, project_id = facts.project.operator_id, facts.project.id
    if promo_code:
        lock_promo_code(session=session, operator_id=operator_id, code=promo_code)
    quote = quote_for(
        session=session,
        operator_id=operator_id,
        project_id=project_id,
        participant_id=participant["id"],
        photo_count=len(photo_ids),
        promo_code=promo_code,
        now=now,
    )
    check_amounts(quote.subtotal_cents, quote.total_cents)
    purchase = Purchase(
        id=uuid.uuid4(),
        operator_id=operator_id,
        project_id=project_id,
        project_name=facts.project.name,
        participant_id=participant["id"],
        participant_email=participant["email"],
        participant_name=participant["name"],
        status="pending" if quote.total_cents > 0 else "paid",
        photo_count=len(photo_ids),
        price_per_photo_cents=quote.price_per_photo_cents,
        subtotal_cents=quote.subtotal_cents,
        discount_applied_cents=quote.discount_applied_cents,
        total_cents=quote.total_cents,
        currency=currency,
        applied_promo_code=quote.applied_promo_code,
        promo_code_id=quote.promo_code.id if quote.promo_code is not None else None,
        idempotency_key=idempotency_key,
        requested_promo_code=requested_code(promo_code),
    )
    session.add(purchase)
    shares = apportion(quote.total_cents, {photo_id: 1 for photo_id in photo_ids})
    session.add_all(
        [
            PurchaseItem(
                purchase_id=purchase.id,
                photo_id=photo_id,
                photographer_id=facts.photographers[photo_id],
                share_cents=shares[photo_id],
            )
            for photo_id in photo_ids
        ]
    )
    session.flush()
    if quote.promo_code is not None:
        take_promo_code_use(session=session, purchase=purchase, within_limit=True)
    if purchase.status == "paid":  # free: paid at once, its webhook event with it
        record_status_event(session=session, purchase=purchase, project_name=facts.project.name, at=now)
    return purchase


def attach_payment_intent(*, session: Session, purchase_id: uuid.UUID, payment_intent_id: str) -> Purchase:
    purchase = session.get_one(Purchase, purchase_id, with_for_update=True, populate_existing=True)
    purchase.stripe_payment_intent_id = payment_intent_id
    session.flush()
    return purchase
