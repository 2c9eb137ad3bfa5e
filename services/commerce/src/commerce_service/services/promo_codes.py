"""Promo codes: a code participants type at checkout that brings one of the operator's discounts."""
from __future__ import annotations

import datetime as dt
import uuid

from backoffice_common.errors import Conflict, NotFound
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from commerce_service.models import PromoCode
from commerce_service.services.common import (FOREIGN_KEY_VIOLATION, UNIQUE_VIOLATION, invalid, operator_listing,
                                              savepoint, window_errors)
from commerce_service.services.discounts import discount_not_found, get_discount

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
    return session.scalar(select(PromoCode).where(PromoCode.operator_id == operator_id,
                                                  PromoCode.code == normalise_code(code)))


list_promo_codes = operator_listing(PromoCode, (
    "id", "code", "discount_id", "max_uses", "max_uses_per_user", "times_used", "valid_from", "valid_until",
    "is_active", "created_at", "updated_at"))


def create_promo_code(*, session: Session, operator_id: uuid.UUID, code: str, discount_id: uuid.UUID,
                      max_uses: int | None = None, max_uses_per_user: int | None = None,
                      valid_from: dt.datetime | None = None, valid_until: dt.datetime | None = None,
                      is_active: bool = True) -> PromoCode:
    """A code (stored upper-case, unique per operator ignoring case) for one of the operator's discounts."""
    if errors := window_errors(valid_from, valid_until):
        raise invalid(errors)
    get_discount(session=session, operator_id=operator_id, discount_id=discount_id, field="discountId")
    code = normalise_code(code)
    conflict = Conflict(CODE_TAKEN, errors={"json": {"code": [CODE_TAKEN]}})
    # Checked first for a clean 409; the unique index still decides a race.
    if session.scalar(select(exists().where(PromoCode.operator_id == operator_id, PromoCode.code == code))):
        raise conflict
    promo_code = PromoCode(id=uuid.uuid4(), operator_id=operator_id, code=code, discount_id=discount_id,
                           max_uses=max_uses, max_uses_per_user=max_uses_per_user, times_used=0,
                           valid_from=valid_from, valid_until=valid_until, is_active=is_active)
    errors = {UNIQUE_VIOLATION: conflict, FOREIGN_KEY_VIOLATION: discount_not_found("discountId")}
    with savepoint(session, errors):
        session.add(promo_code)
    return promo_code


def update_promo_code(*, session: Session, operator_id: uuid.UUID, promo_code_id: uuid.UUID,
                      changes: dict) -> PromoCode:
    """(De)activate, change the limits (null lifts one) or the dates."""
    promo_code = get_promo_code(session=session, operator_id=operator_id, promo_code_id=promo_code_id)
    if unknown := set(changes) - UPDATABLE:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if errors := window_errors(changes.get("valid_from", promo_code.valid_from),
                               changes.get("valid_until", promo_code.valid_until)):
        raise invalid(errors)
    for field, value in changes.items():
        setattr(promo_code, field, value)
    session.flush()
    return promo_code


def delete_promo_code(*, session: Session, operator_id: uuid.UUID, promo_code_id: uuid.UUID) -> None:
    session.delete(get_promo_code(session=session, operator_id=operator_id, promo_code_id=promo_code_id))
    session.flush()
