"""The price engine (design §6): what n photos of a project cost at a given time.

The rules are plain functions over plain values (``compute_quote`` and its
helpers never touch the database) so they can be tested exhaustively; ``quote``
gathers the inputs from the database and the projects service.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backoffice_common.errors import Conflict
from commerce_service.clients.projects import ProjectsClient
from commerce_service.common import in_window
from commerce_service.models import Discount, PricingRule, ProjectDiscount
from commerce_service.projects.rules import check_checkout
from commerce_service.promo_codes.rules import usable_promo_code

NO_PRICE = "No price applies to this project now: set an active pricing rule for it or an operator default."


# --- the rules, as plain functions -------------------------------------------------------------------------------


def percent_of(amount_cents: int, percent: int) -> int:
    """``percent`` % of ``amount_cents``, rounded half up to the cent, in integers (never a float)."""
    return (amount_cents * percent + 50) // 100


def discount_amount(discount: Any, subtotal_cents: int) -> int:
    """What ``discount`` takes off ``subtotal_cents``: never more than the subtotal."""
    if discount.type == "fixed":
        return min(discount.value, subtotal_cents)
    return min(percent_of(subtotal_cents, discount.value), subtotal_cents)


def discount_applies(discount: Any, *, at: dt.datetime, photo_count: int) -> bool:
    """Active, in its window, and — for a bundle — bought in a large enough batch."""
    return (
        discount.is_active
        and in_window(discount, at)
        and (discount.type != "bundle" or photo_count >= discount.bundle_min_photos)
    )


@dataclass(frozen=True)
class Candidate:
    discount: Any
    amount_cents: int
    promo_code: Any = None  # the promo code that brought this discount, if one did


def choose_discount(candidates: Iterable[Candidate]) -> Candidate | None:
    """The one discount that applies: the largest amount; on a tie the promo code's.

    Ties otherwise break on the discount id so the answer never depends on the
    candidates' order. Nothing applies when the best takes nothing off.
    """
    best = max(candidates, key=lambda c: (c.amount_cents, c.promo_code is not None, str(c.discount.id)), default=None)
    return best if best is not None and best.amount_cents > 0 else None


@dataclass(frozen=True)
class Quote:
    price_per_photo_cents: int
    photo_count: int
    subtotal_cents: int
    discount_applied_cents: int
    total_cents: int
    applied_promo_code: str | None
    discount: Any = None  # the discount applied, if any (checkout records it)
    promo_code: Any = None  # the promo code applied, if any (checkout takes a use of it)


def compute_quote(
    *,
    price_per_photo_cents: int,
    photo_count: int,
    at: dt.datetime,
    project_discounts: Iterable[Any] = (),
    promo_code: Any = None,
    promo_discount: Any = None,
) -> Quote:
    """Subtotal, the one best discount, and the total for ``photo_count`` photos.

    ``project_discounts`` are the discounts linked to the project (filtered here);
    ``promo_code``/``promo_discount`` are a code already found usable and its discount.
    """
    subtotal = photo_count * price_per_photo_cents
    candidates = [
        Candidate(d, discount_amount(d, subtotal))
        for d in project_discounts
        if discount_applies(d, at=at, photo_count=photo_count)
    ]
    if promo_code is not None and discount_applies(promo_discount, at=at, photo_count=photo_count):
        candidates.append(Candidate(promo_discount, discount_amount(promo_discount, subtotal), promo_code))
    chosen = choose_discount(candidates)
    applied = chosen.amount_cents if chosen else 0
    applied_code = chosen.promo_code if chosen else None
    return Quote(
        price_per_photo_cents=price_per_photo_cents,
        photo_count=photo_count,
        subtotal_cents=subtotal,
        discount_applied_cents=applied,
        total_cents=subtotal - applied,
        applied_promo_code=applied_code.code if applied_code is not None else None,
        discount=chosen.discount if chosen else None,
        promo_code=applied_code,
    )


# --- gathering the inputs ----------------------------------------------------------------------------------------


def price_for(
    *, session: Session, operator_id: uuid.UUID, project_id: uuid.UUID, at: dt.datetime
) -> PricingRule | None:
    """The project's active rule valid at ``at``, else the operator default valid at ``at``, else None."""
    return session.scalar(
        select(PricingRule)
        .where(
            PricingRule.operator_id == operator_id,
            PricingRule.is_active,
            or_(PricingRule.project_id == project_id, PricingRule.project_id.is_(None)),
            or_(PricingRule.valid_from.is_(None), PricingRule.valid_from <= at),
            or_(PricingRule.valid_until.is_(None), PricingRule.valid_until > at),
        )
        .order_by(PricingRule.project_id.is_(None))
        .limit(1)
    )


def quote(
    *,
    session: Session,
    projects: ProjectsClient,
    project_id: uuid.UUID,
    participant_id: uuid.UUID,
    photo_ids: Iterable[uuid.UUID],
    now: dt.datetime,
    promo_code: str | None = None,
) -> Quote:
    """What the participant would pay now for these photos of the project (409 when no price applies).

    Refused exactly as checkout refuses (``check_checkout``, on the same fresh facts from projects): a price
    for photos checkout would not sell is no price at all. An unknown or unusable promo code is ignored: the
    quote is made without it.
    """
    photo_ids = list(photo_ids)
    facts = check_checkout(projects.checkout_facts(project_id, participant_id, photo_ids), photo_ids)
    return quote_for(
        session=session,
        operator_id=facts.project.operator_id,
        project_id=project_id,
        participant_id=participant_id,
        photo_count=len(photo_ids),
        promo_code=promo_code,
        now=now,
    )


def quote_for(
    *,
    session: Session,
    operator_id: uuid.UUID,
    project_id: uuid.UUID,
    participant_id: uuid.UUID,
    photo_count: int,
    promo_code: str | None,
    now: dt.datetime,
) -> Quote:
    """The quote for a project whose owner is already known (409 when no price applies)."""
    rule = price_for(session=session, operator_id=operator_id, project_id=project_id, at=now)
    if rule is None:
        raise Conflict(NO_PRICE)
    linked = session.scalars(
        select(Discount)
        .join(ProjectDiscount, ProjectDiscount.discount_id == Discount.id)
        .where(ProjectDiscount.project_id == project_id, Discount.operator_id == operator_id)
    ).all()
    offer = None
    if promo_code:
        offer = usable_promo_code(
            session=session, operator_id=operator_id, code=promo_code, participant_id=participant_id, now=now
        )
    return compute_quote(
        price_per_photo_cents=rule.price_per_photo_cents,
        photo_count=photo_count,
        at=now,
        project_discounts=linked,
        promo_code=offer[0] if offer else None,
        promo_discount=offer[1] if offer else None,
    )
