"""Discounts, and which projects offer them."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from backoffice_common.db import FOREIGN_KEY_VIOLATION, constraint_errors
from backoffice_common.errors import Conflict, DomainError, NotFound, field_error, field_errors
from commerce_service.clients.projects import ProjectsClient
from commerce_service.common import OperatorListing, window_errors
from commerce_service.models import Discount, ProjectDiscount, PromoCode
from commerce_service.projects.rules import find_project

DISCOUNT_NOT_FOUND = "Discount not found."
IN_USE = "The discount is still linked to a project or used by a promo code."
PERCENT_TYPES = ("percentage", "bundle")
MAX_BUNDLE_MIN_PHOTOS = 10_000
UPDATABLE = frozenset({"name", "valid_from", "valid_until", "is_active"})


def discount_not_found(field: str | None = None) -> DomainError:
    """404 for a discount that is not the operator's; ``field`` names the body field that referred to it."""
    return field_error(field, DISCOUNT_NOT_FOUND, error=NotFound) if field else NotFound(DISCOUNT_NOT_FOUND)


def get_discount(
    *, session: Session, operator_id: uuid.UUID, discount_id: uuid.UUID, field: str | None = None
) -> Discount:
    discount = session.get(Discount, discount_id)
    if discount is None or discount.operator_id != operator_id:
        raise discount_not_found(field)
    return discount


list_discounts = OperatorListing(
    Discount,
    (
        "id",
        "name",
        "type",
        "value",
        "bundle_min_photos",
        "valid_from",
        "valid_until",
        "is_active",
        "created_at",
        "updated_at",
    ),
)


def create_discount(
    *,
    session: Session,
    operator_id: uuid.UUID,
    name: str,
    type: str,
    value: int,
    bundle_min_photos: int | None = None,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    is_active: bool = True,
) -> Discount:
    """``value`` is percentage points (1–100) for percentage and bundle, cents (≥ 1) for fixed;
    ``bundle_min_photos`` (≥ 2) is required for bundle and ignored otherwise."""
    errors = window_errors(valid_from, valid_until)
    if type in PERCENT_TYPES:
        if not 1 <= value <= 100:
            errors["value"] = ["Must be between 1 and 100 percentage points."]
    elif value < 1:
        errors["value"] = ["Must be at least 1 cent."]
    if type == "bundle":
        if bundle_min_photos is None:
            errors["bundleMinPhotos"] = ["Required for a bundle discount."]
        elif not 2 <= bundle_min_photos <= MAX_BUNDLE_MIN_PHOTOS:
            errors["bundleMinPhotos"] = [f"Must be between 2 and {MAX_BUNDLE_MIN_PHOTOS}."]
    else:
        bundle_min_photos = None
    if errors:
        raise field_errors(errors)
    discount = Discount(
        id=uuid.uuid4(),
        operator_id=operator_id,
        name=name,
        type=type,
        value=value,
        bundle_min_photos=bundle_min_photos,
        valid_from=valid_from,
        valid_until=valid_until,
        is_active=is_active,
    )
    session.add(discount)
    session.flush()
    return discount


def update_discount(*, session: Session, operator_id: uuid.UUID, discount_id: uuid.UUID, changes: dict) -> Discount:
    """Rename, change the dates, or (de)activate; type and value are fixed once created."""
    discount = get_discount(session=session, operator_id=operator_id, discount_id=discount_id)
    if unknown := set(changes) - UPDATABLE:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    errors = window_errors(
        changes.get("valid_from", discount.valid_from), changes.get("valid_until", discount.valid_until)
    )
    if errors:
        raise field_errors(errors)
    for field, value in changes.items():
        setattr(discount, field, value)
    session.flush()
    return discount


def delete_discount(*, session: Session, operator_id: uuid.UUID, discount_id: uuid.UUID) -> None:
    """Refused (409) while a project offers it or a promo code uses it."""
    discount = get_discount(session=session, operator_id=operator_id, discount_id=discount_id)
    in_use = exists().where(ProjectDiscount.discount_id == discount_id) | exists().where(
        PromoCode.discount_id == discount_id
    )
    if session.scalar(select(in_use)):
        raise Conflict(IN_USE)
    # A link or promo code created concurrently is caught by the foreign keys (RESTRICT).
    with constraint_errors(session, {FOREIGN_KEY_VIOLATION: Conflict(IN_USE)}):
        session.delete(discount)


def project_discounts(
    *, session: Session, projects: ProjectsClient, operator_id: uuid.UUID, project_id: uuid.UUID
) -> list[Discount]:
    """The discounts linked to one of the operator's projects, most recently linked first."""
    find_project(session=session, projects=projects, project_id=project_id, operator_id=operator_id)
    return list(
        session.scalars(
            select(Discount)
            .join(ProjectDiscount, ProjectDiscount.discount_id == Discount.id)
            .where(ProjectDiscount.project_id == project_id, ProjectDiscount.operator_id == operator_id)
            .order_by(ProjectDiscount.created_at.desc(), Discount.created_at.desc(), Discount.id.desc())
        )
    )


def link_discount(
    *, session: Session, projects: ProjectsClient, operator_id: uuid.UUID, project_id: uuid.UUID, discount_id: uuid.UUID
) -> None:
    """Offer the discount on the project (linking twice is a no-op)."""
    find_project(session=session, projects=projects, project_id=project_id, operator_id=operator_id, for_write=True)
    get_discount(session=session, operator_id=operator_id, discount_id=discount_id, field="discountId")
    with constraint_errors(session, {FOREIGN_KEY_VIOLATION: discount_not_found("discountId")}):  # deleted meanwhile
        session.execute(
            insert(ProjectDiscount)
            .values(project_id=project_id, discount_id=discount_id, operator_id=operator_id)
            .on_conflict_do_nothing()
        )


def unlink_discount(
    *, session: Session, projects: ProjectsClient, operator_id: uuid.UUID, project_id: uuid.UUID, discount_id: uuid.UUID
) -> None:
    """Stop offering the discount on the project (not linked: a no-op)."""
    find_project(session=session, projects=projects, project_id=project_id, operator_id=operator_id)
    get_discount(session=session, operator_id=operator_id, discount_id=discount_id)
    session.execute(
        delete(ProjectDiscount).where(
            ProjectDiscount.project_id == project_id, ProjectDiscount.discount_id == discount_id
        )
    )
