"""Purchases (design §6): checkout, the promo code use it takes, photographers' shares, and the operator's views.

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
from collections.abc import Callable, Hashable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from backoffice_common.errors import Conflict, Forbidden, NotFound, ServiceUnavailable
from sqlalchemy import bindparam, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce_service.clients.auth import AuthClient
from commerce_service.clients.payments import STRIPE_UNAVAILABLE, Payments
from commerce_service.clients.projects import CheckoutFacts, ProjectsClient
from commerce_service.models import PromoCode, PromoCodeRedemption, Purchase, PurchaseCounts, PurchaseItem
from commerce_service.services.pricing import quote_for
from commerce_service.services.projects import check_checkout
from commerce_service.services.promo_codes import normalise_code

log = logging.getLogger(__name__)

UnitOfWork = Callable[[], AbstractContextManager[Session]]

# Stripe charges at least about 0.50 of the main currency unit and at most 99,999,999 minor units; an amount
# outside that would fail at Stripe on every attempt, so checkout refuses it before writing anything.
MIN_CHARGE_CENTS = 50
MAX_CHARGE_CENTS = 99_999_999


def check_amounts(subtotal_cents: int, total_cents: int) -> None:
    """A purchase Stripe can take: free, or a total within its limits (and a subtotal our columns hold)."""
    if subtotal_cents > MAX_CHARGE_CENTS:
        raise Conflict(f"A purchase may come to at most {MAX_CHARGE_CENTS} cents before discounts; "
                       "buy fewer photos at once.")
    if 0 < total_cents < MIN_CHARGE_CENTS:
        raise Conflict(f"A purchase of {total_cents} cents is below the payment provider's minimum of "
                       f"{MIN_CHARGE_CENTS}; it can be free or at least {MIN_CHARGE_CENTS} cents.")


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

def checkout(*, unit_of_work: UnitOfWork, projects: ProjectsClient, auth: AuthClient, payments: Payments,
             project_id: uuid.UUID, participant: dict, photo_ids: list[uuid.UUID], promo_code: str | None = None,
             key_ttl: dt.timedelta, idempotency_key: str | None = None,
             at: dt.datetime | None = None) -> tuple[dict, bool]:
    """Buy photos: a pending purchase and its Stripe PaymentIntent, or a paid purchase when the total is 0.

    The answer and whether it is new (201) or the repeat of an ``idempotency_key``'s checkout (200). A key the
    participant used within ``key_ttl`` is looked up before anything else: the same request gets that purchase
    again (409 for another request); of two first tries at once, the unique index lets one write and the other
    answers as a repeat. A key older than ``key_ttl`` is released first, so it makes a new purchase; so is a
    key whose payment could not even start (Stripe down or refusing), so retrying it is a new checkout.
    """
    request = (project_id, frozenset(photo_ids), requested_code(promo_code))
    if idempotency_key is not None:
        with unit_of_work() as session:
            release_expired_key(session=session, participant_id=participant["id"], key=idempotency_key,
                                ttl=key_ttl)
            previous = keyed_purchase(session=session, participant_id=participant["id"], key=idempotency_key)
        if previous is not None:
            return repeat(payments, *previous, request=request), False
    facts = check_checkout(projects.checkout_facts(project_id, participant["id"], photo_ids), photo_ids)
    currency = auth.operator_currency(facts.project.operator_id)
    with unit_of_work() as session:
        try:
            with session.begin_nested():
                purchase = open_purchase(session=session, facts=facts, participant=participant, photo_ids=photo_ids,
                                         promo_code=promo_code, currency=currency, idempotency_key=idempotency_key,
                                         at=at or dt.datetime.now(dt.timezone.utc))
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
        return {**present(purchase, facts.project.name, downloads=downloads), "client_secret": None}, True
    try:
        intent = payments.create_payment_intent(purchase_id=purchase.id, amount_cents=purchase.total_cents,
                                                currency=purchase.currency)
    except (ServiceUnavailable, Conflict):
        with unit_of_work() as session:
            fail_purchase(session=session, purchase_id=purchase.id, release_key=True)
        raise
    with unit_of_work() as session:
        purchase = attach_payment_intent(session=session, purchase_id=purchase.id, payment_intent_id=intent.id)
    return {**present(purchase, facts.project.name, downloads=downloads), "client_secret": intent.client_secret}, True


# --- a repeated checkout (Idempotency-Key) -------------------------------------------------------------------------

IDEMPOTENCY_KEY_INDEX = "uq_purchases_participant_id_idempotency_key"
OTHER_REQUEST = "This Idempotency-Key was used for a different checkout."


def release_expired_key(*, session: Session, participant_id: uuid.UUID, key: str, ttl: dt.timedelta) -> None:
    """Free the participant's Idempotency-Key when the purchase holding it was made more than ``ttl`` ago
    (database time, like the sweeper's): the key then names a new checkout, as at Stripe after 24 hours.
    The purchase itself stays as it is, without its key."""
    session.execute(update(Purchase)
                    .where(Purchase.participant_id == participant_id, Purchase.idempotency_key == key,
                           Purchase.created_at < func.now() - ttl)
                    .values(idempotency_key=None).execution_options(synchronize_session=False))


def requested_code(promo_code: str | None) -> str | None:
    """The promo code a checkout asked for, as it is looked up (blank = none)."""
    return (normalise_code(promo_code) or None) if promo_code else None


def constraint_of(exc: IntegrityError) -> str | None:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


def keyed_purchase(*, session: Session, participant_id: uuid.UUID,
                   key: str) -> tuple[Purchase, list[uuid.UUID]] | None:
    """The participant's purchase made with this Idempotency-Key, and its photos; None when there is none."""
    purchase = session.scalar(select(Purchase).where(Purchase.participant_id == participant_id,
                                                     Purchase.idempotency_key == key)
                              .execution_options(populate_existing=True))
    if purchase is None:
        return None
    return purchase, purchase_photo_ids(session=session, purchase_id=purchase.id)


def repeat(payments: Payments, purchase: Purchase, downloads: list[uuid.UUID], *, request: tuple) -> dict:
    """The answer to a checkout repeated with its Idempotency-Key: the purchase as it stands, with the client
    secret Stripe keeps for its intent while it can still be paid (409 when the key was used for another
    request). A purchase whose first try has not stored its intent yet has none to give."""
    if request != (purchase.project_id, frozenset(downloads), purchase.requested_promo_code):
        raise Conflict(OTHER_REQUEST)
    client_secret = None
    if purchase.status == "pending" and purchase.stripe_payment_intent_id is not None:
        client_secret = payments.client_secret_of(purchase.stripe_payment_intent_id)
    return {**present(purchase, purchase.project_name, downloads=downloads), "client_secret": client_secret}


def open_purchase(*, session: Session, facts: CheckoutFacts, participant: dict, photo_ids: list[uuid.UUID],
                  promo_code: str | None, currency: str, at: dt.datetime,
                  idempotency_key: str | None = None) -> Purchase:
    """Price the photos, take the promo code's use if its discount applies, and add the purchase and its items.

    The promo code's row is locked first, so its limits (``maxUses`` and, counted from redemptions,
    ``maxUsesPerUser``) are judged on what concurrent checkouts have committed; the use itself is a
    conditional update under ``maxUses`` as well.
    """
    operator_id, project_id = facts.project.operator_id, facts.project.id
    if promo_code:
        session.scalar(select(PromoCode).where(PromoCode.operator_id == operator_id,
                                               PromoCode.code == normalise_code(promo_code))
                       .with_for_update().execution_options(populate_existing=True))
    quote = quote_for(session=session, operator_id=operator_id, project_id=project_id,
                      participant_id=participant["id"], photo_count=len(photo_ids), promo_code=promo_code, at=at)
    check_amounts(quote.subtotal_cents, quote.total_cents)
    purchase = Purchase(
        id=uuid.uuid4(), operator_id=operator_id, project_id=project_id, project_name=facts.project.name,
        participant_id=participant["id"], participant_email=participant["email"],
        participant_name=participant["name"], status="pending" if quote.total_cents > 0 else "paid",
        photo_count=len(photo_ids), price_per_photo_cents=quote.price_per_photo_cents,
        subtotal_cents=quote.subtotal_cents, discount_applied_cents=quote.discount_applied_cents,
        total_cents=quote.total_cents, currency=currency, applied_promo_code=quote.applied_promo_code,
        promo_code_id=quote.promo_code.id if quote.promo_code is not None else None,
        idempotency_key=idempotency_key, requested_promo_code=requested_code(promo_code))
    session.add(purchase)
    shares = apportion(quote.total_cents, {photo_id: 1 for photo_id in photo_ids})
    session.add_all([PurchaseItem(purchase_id=purchase.id, photo_id=photo_id,
                                  photographer_id=facts.photographers[photo_id], share_cents=shares[photo_id])
                     for photo_id in photo_ids])
    session.flush()
    if quote.promo_code is not None:
        take_promo_code_use(session=session, purchase=purchase, within_limit=True)
    return purchase


def take_promo_code_use(*, session: Session, purchase: Purchase, within_limit: bool) -> None:
    """Count a use of the purchase's promo code (and its redemption by the participant).

    ``within_limit`` makes it conditional on ``times_used < max_uses`` (checkout: 409 when used up);
    a payment that went through after all (failed → paid) takes it back unconditionally.
    """
    condition = [PromoCode.id == purchase.promo_code_id]
    if within_limit:
        condition.append((PromoCode.max_uses.is_(None)) | (PromoCode.times_used < PromoCode.max_uses))
    taken = session.execute(update(PromoCode).where(*condition).values(times_used=PromoCode.times_used + 1)
                            .returning(PromoCode.id).execution_options(synchronize_session=False)).first()
    if taken is None:
        if within_limit:
            raise Conflict("This promo code was just used up; try again without it.")
        return  # the code was deleted meanwhile: nothing to count
    session.add(PromoCodeRedemption(id=uuid.uuid4(), promo_code_id=purchase.promo_code_id,
                                    participant_id=purchase.participant_id, purchase_id=purchase.id))
    session.flush()


def give_back_promo_code_use(*, session: Session, purchase: Purchase) -> None:
    """Undo the purchase's promo code use, if it holds one (a failed payment does not use the code)."""
    returned = session.scalars(delete(PromoCodeRedemption).where(PromoCodeRedemption.purchase_id == purchase.id)
                               .returning(PromoCodeRedemption.promo_code_id)).all()
    for promo_code_id in returned:
        session.execute(update(PromoCode).where(PromoCode.id == promo_code_id)
                        .values(times_used=func.greatest(PromoCode.times_used - 1, 0))
                        .execution_options(synchronize_session=False))


def fail_purchase(*, session: Session, purchase_id: uuid.UUID, release_key: bool = False) -> Purchase:
    """A purchase whose payment could not even start: failed, its promo code use given back.

    ``release_key`` (checkout's own failure, answered 503 or 409) frees its Idempotency-Key, so the caller's
    retry with it is a new checkout rather than the repeat of a failure.
    """
    purchase = session.get(Purchase, purchase_id, with_for_update=True, populate_existing=True)
    if purchase.status == "pending":
        purchase.status = "failed"
        if release_key:
            purchase.idempotency_key = None
        give_back_promo_code_use(session=session, purchase=purchase)
        session.flush()
    return purchase


def attach_payment_intent(*, session: Session, purchase_id: uuid.UUID, payment_intent_id: str) -> Purchase:
    purchase = session.get(Purchase, purchase_id, with_for_update=True, populate_existing=True)
    purchase.stripe_payment_intent_id = payment_intent_id
    session.flush()
    return purchase


# --- the operator's views ----------------------------------------------------------------------------------------

def present(purchase, project_name: str, *, downloads: list[uuid.UUID] | None = None) -> dict[str, Any]:
    """A purchase in the contract's shape (with ``downloads`` for the detail)."""
    view = {
        "id": purchase.id, "status": purchase.status, "photo_count": purchase.photo_count,
        "subtotal_cents": purchase.subtotal_cents, "discount_applied_cents": purchase.discount_applied_cents,
        "total_cents": purchase.total_cents, "applied_promo_code": purchase.applied_promo_code,
        "stripe_payment_intent_id": purchase.stripe_payment_intent_id, "created_at": purchase.created_at,
        "project": {"id": purchase.project_id, "name": project_name},
        "user": {"id": purchase.participant_id, "email": purchase.participant_email,
                 "name": purchase.participant_name},
    }
    if downloads is not None:
        view["downloads"] = [{"photo_id": photo_id} for photo_id in downloads]
    return view


def current_names(projects: ProjectsClient, purchases: list, *, cached: bool = False) -> dict[uuid.UUID, str]:
    """Projects' current names (at most one call; ``cached``: names up to PROJECT_CACHE_TTL_S old, as lists show
    them); a deleted project — or projects being down — leaves the name stored at checkout."""
    try:
        names = projects.project_names({purchase.project_id for purchase in purchases}, cached=cached)
    except ServiceUnavailable:
        log.warning("projects unavailable: purchases shown with the project names they were made under")
        names = {}
    return {purchase.project_id: names.get(purchase.project_id, purchase.project_name) for purchase in purchases}


def purchase_photo_ids(*, session: Session, purchase_id: uuid.UUID) -> list[uuid.UUID]:
    return list(session.scalars(select(PurchaseItem.photo_id).where(PurchaseItem.purchase_id == purchase_id)
                                .order_by(PurchaseItem.photo_id)))


# What the list shows of a purchase (``present``), as plain rows: building ORM entities (and a uuid.UUID
# for ids nobody reads) was most of a page's time. The statements are built once, one per filter.
_LISTED_COLUMNS = (Purchase.id, Purchase.status, Purchase.photo_count, Purchase.subtotal_cents,
                   Purchase.discount_applied_cents, Purchase.total_cents, Purchase.applied_promo_code,
                   Purchase.stripe_payment_intent_id, Purchase.created_at, Purchase.project_id, Purchase.project_name,
                   Purchase.participant_id, Purchase.participant_email, Purchase.participant_name)


def _page_and_total(by_project: bool, by_status: bool):
    where = [Purchase.operator_id == bindparam("operator_id")]
    counted = [PurchaseCounts.operator_id == bindparam("operator_id")]
    if by_project:
        where.append(Purchase.project_id == bindparam("project_id"))
        counted.append(PurchaseCounts.project_id == bindparam("project_id"))
    if by_status:
        where.append(Purchase.status == bindparam("status"))
        counted.append(PurchaseCounts.status == bindparam("status"))
    page = (select(*_LISTED_COLUMNS).where(*where).order_by(Purchase.created_at.desc(), Purchase.id.desc())
            .offset(bindparam("offset")).limit(bindparam("limit")))
    # The total from the rollup (a few rows per project), not a count of every purchase.
    total = select(func.coalesce(func.sum(PurchaseCounts.purchases), 0)).where(*counted)
    return page, total


_LISTS = {(by_project, by_status): _page_and_total(by_project, by_status)
          for by_project in (False, True) for by_status in (False, True)}


def list_purchases(*, session: Session, projects: ProjectsClient, operator_id: uuid.UUID,
                   project_id: uuid.UUID | None = None, status: str | None = None, page: int = 1,
                   limit: int = 50) -> dict[str, Any]:
    """One page of the operator's purchases, newest first: two statements, and a call to projects for the names
    it has not seen in the last PROJECT_CACHE_TTL_S."""
    page_of, total_of = _LISTS[(project_id is not None, status is not None)]
    params = {"operator_id": operator_id, "project_id": project_id, "status": status,
              "offset": (page - 1) * limit, "limit": limit}
    total = session.scalar(total_of, params)
    rows = session.execute(page_of, params).all()
    names = current_names(projects, rows, cached=True)
    return {"items": [present(row, names[row.project_id]) for row in rows], "total": total, "page": page,
            "limit": limit}


_ANY_PURCHASE = select(exists().where(Purchase.operator_id == bindparam("operator_id")))


def has_purchases(*, session: Session, operator_id: uuid.UUID) -> bool:
    """Whether the operator has any purchase, whatever its status: a pending or failed one may still be paid,
    so each is an amount in the operator's currency (auth refuses a currency change then)."""
    return session.scalar(_ANY_PURCHASE, {"operator_id": operator_id})


def get_purchase(*, session: Session, projects: ProjectsClient, operator_id: uuid.UUID,
                 purchase_id: uuid.UUID) -> dict[str, Any]:
    """A purchase with its photos: 404 when unknown, 403 when another operator's (the contract's exception)."""
    purchase = session.get(Purchase, purchase_id)
    if purchase is None:
        raise NotFound("Purchase not found.")
    if purchase.operator_id != operator_id:
        raise Forbidden("This purchase belongs to another operator.")
    return present(purchase, current_names(projects, [purchase])[purchase.project_id],
                   downloads=purchase_photo_ids(session=session, purchase_id=purchase_id))
