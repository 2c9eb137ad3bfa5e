"""Promo codes: a code participants type at checkout that brings one of the operator's discounts — its CRUD, its
limits, and the one place a use is taken and given back."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session

from backoffice_common.db import FOREIGN_KEY_VIOLATION, UNIQUE_VIOLATION, constraint_errors
from backoffice_common.errors import Conflict, NotFound, field_error, field_errors
from commerce_service.common import OperatorListing, in_window, window_errors
from commerce_service.discounts.rules import discount_not_found, get_discount
from commerce_service.models import Discount, PromoCode, PromoCodeRedemption, Purchase

CODE_TAKEN = "You already have a promo code with this code."
UPDATABLE = frozenset({"is_active", "max_uses", "max_uses_per_user", "valid_from", "valid_until"})


def normalise_code(code: str) -> str:
    return code.strip().upper()


def get_promo_code(*, session: Session, operator_id: uuid.UUID, promo_code_id: uuid.UUID) -> PromoCode:
    promo_code = session.get(PromoCode, promo_code_id)
    if promo_code is None or promo_code.operator_id != operator_id:
        raise NotFound("Promo code not found.")
    return promo_code


def find_by_code(*, session: Session, operator_id: uuid.UUID, code: str) -> PromoCode | None:
    """The operator's promo code with this code, whatever its case."""
    return session.scalar(
        select(PromoCode).where(PromoCode.operator_id == operator_id, PromoCode.code == normalise_code(code))
    )


list_promo_codes = OperatorListing(
    PromoCode,
    (
        "id",
        "code",
        "discount_id",
        "max_uses",
        "max_uses_per_user",
        "times_used",
        "valid_from",
        "valid_until",
        "is_active",
        "created_at",
        "updated_at",
    ),
)


def create_promo_code(
    *,
    session: Session,
    operator_id: uuid.UUID,
    code: str,
    discount_id: uuid.UUID,
    max_uses: int | None = None,
    max_uses_per_user: int | None = None,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    is_active: bool = True,
) -> PromoCode:
    """A code (stored upper-case, unique per operator ignoring case) for one of the operator's discounts."""
    if errors := window_errors(valid_from, valid_until):
        raise field_errors(errors)
    get_discount(session=session, operator_id=operator_id, discount_id=discount_id, field="discountId")
    code = normalise_code(code)
    conflict = field_error("code", CODE_TAKEN, error=Conflict)
    # Checked first for a clean 409; the unique index still decides a race.
    if session.scalar(select(exists().where(PromoCode.operator_id == operator_id, PromoCode.code == code))):
        raise conflict
    promo_code = PromoCode(
        id=uuid.uuid4(),
        operator_id=operator_id,
        code=code,
        discount_id=discount_id,
        max_uses=max_uses,
        max_uses_per_user=max_uses_per_user,
        times_used=0,
        valid_from=valid_from,
        valid_until=valid_until,
        is_active=is_active,
    )
    raced = {UNIQUE_VIOLATION: conflict, FOREIGN_KEY_VIOLATION: discount_not_found("discountId")}
    with constraint_errors(session, raced):
        session.add(promo_code)
    return promo_code


def update_promo_code(
    *, session: Session, operator_id: uuid.UUID, promo_code_id: uuid.UUID, changes: dict
) -> PromoCode:
    """(De)activate, change the limits (null lifts one) or the dates."""
    promo_code = get_promo_code(session=session, operator_id=operator_id, promo_code_id=promo_code_id)
    if unknown := set(changes) - UPDATABLE:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if errors := window_errors(
        changes.get("valid_from", promo_code.valid_from), changes.get("valid_until", promo_code.valid_until)
    ):
        raise field_errors(errors)
    for field, value in changes.items():
        setattr(promo_code, field, value)
    session.flush()
    return promo_code


def delete_promo_code(*, session: Session, operator_id: uuid.UUID, promo_code_id: uuid.UUID) -> None:
    session.delete(get_promo_code(session=session, operator_id=operator_id, promo_code_id=promo_code_id))
    session.flush()


# --- a use of a code: judged by the price engine, taken at checkout, given back when the payment fails ------------


def lock_promo_code(*, session: Session, operator_id: uuid.UUID, code: str) -> None:
    """Lock the operator's promo code with this code (if any) until commit, so checkout judges its limits
    (``maxUses`` and, counted from redemptions, ``maxUsesPerUser``) on what concurrent checkouts committed."""
    session.scalar(
        select(PromoCode)
        .where(PromoCode.operator_id == operator_id, PromoCode.code == normalise_code(code))
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def promo_code_usable(promo_code, discount, *, at: dt.datetime, uses_by_participant: int) -> bool:
    """Active, in its window, under both limits, and its discount active and in window."""
    return (
        promo_code.is_active
        and in_window(promo_code, at)
        and (promo_code.max_uses is None or promo_code.times_used < promo_code.max_uses)
        and (promo_code.max_uses_per_user is None or uses_by_participant < promo_code.max_uses_per_user)
        and discount.is_active
        and in_window(discount, at)
    )


def usable_promo_code(
    *, session: Session, operator_id: uuid.UUID, code: str, participant_id: uuid.UUID, now: dt.datetime
) -> tuple[PromoCode, Discount] | None:
    """The operator's promo code with this code and its discount, when the participant may use it now."""
    promo_code = find_by_code(session=session, operator_id=operator_id, code=code)
    if promo_code is None:
        return None
    discount = session.get_one(Discount, promo_code.discount_id)  # (a foreign key: it exists)
    uses = session.execute(
        select(func.count())
        .select_from(PromoCodeRedemption)
        .where(PromoCodeRedemption.promo_code_id == promo_code.id, PromoCodeRedemption.participant_id == participant_id)
    ).scalar_one()
    if not promo_code_usable(promo_code, discount, at=now, uses_by_participant=uses):
        return None
    return promo_code, discount


def take_promo_code_use(*, session: Session, purchase: Purchase, within_limit: bool) -> None:
    """Count a use of the purchase's promo code (and its redemption by the participant).

    ``within_limit`` makes it conditional on ``times_used < max_uses`` (checkout: 409 when used up);
    a payment that went through after all (failed → paid) takes it back unconditionally.
    """
    condition = [PromoCode.id == purchase.promo_code_id]
    if within_limit:
        condition.append((PromoCode.max_uses.is_(None)) | (PromoCode.times_used < PromoCode.max_uses))
    taken = session.execute(
        update(PromoCode)
        .where(*condition)
        .values(times_used=PromoCode.times_used + 1)
        .returning(PromoCode.id)
        .execution_options(synchronize_session=False)
    ).first()
    if taken is None:
        if within_limit:
            raise Conflict("This promo code was just used up; try again without it.")
        return  # the code was deleted meanwhile: nothing to count
    session.add(
        PromoCodeRedemption(
            id=uuid.uuid4(),
            promo_code_id=purchase.promo_code_id,
            participant_id=purchase.participant_id,
            purchase_id=purchase.id,
        )
    )
    session.flush()


def give_back_promo_code_use(*, session: Session, purchase: Purchase) -> None:
    """Undo the purchase's promo code use, if it holds one (a failed payment does not use the code)."""
    returned = session.scalars(
        delete(PromoCodeRedemption)
        .where(PromoCodeRedemption.purchase_id == purchase.id)
        .returning(PromoCodeRedemption.promo_code_id)
    ).all()
    for promo_code_id in returned:
        session.execute(
            update(PromoCode)
            .where(PromoCode.id == promo_code_id)
            .values(times_used=func.greatest(PromoCode.times_used - 1, 0))
            .execution_options(synchronize_session=False)
        )
