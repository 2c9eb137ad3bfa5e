"""Pricing rules: the operator default (no project) and per-project overrides, never two active at once."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.orm import Session

from backoffice_common.db import constraint_errors
from backoffice_common.errors import Conflict, NotFound, field_error, field_errors
from commerce_service.clients.projects import ProjectsClient
from commerce_service.common import DEADLOCK_DETECTED, EXCLUSION_VIOLATION, OperatorListing, window_errors
from commerce_service.models import PricingRule
from commerce_service.projects.rules import PROJECT_NOT_FOUND, find_project

OVERLAP = "Another active pricing rule for the same scope overlaps this period."
UPDATABLE = frozenset({"price_per_photo_cents", "compare_at_price_cents", "valid_from", "valid_until", "is_active"})


def _overlap_errors() -> dict:
    """What losing the race for a period means, as fresh exceptions (never share one across requests)."""
    return {EXCLUSION_VIOLATION: Conflict(OVERLAP), DEADLOCK_DETECTED: Conflict(OVERLAP)}


def _check(rule: PricingRule) -> None:
    errors = window_errors(rule.valid_from, rule.valid_until)
    if rule.compare_at_price_cents is not None and rule.compare_at_price_cents <= rule.price_per_photo_cents:
        errors["compareAtPriceCents"] = ["Must be greater than pricePerPhotoCents."]
    if errors:
        raise field_errors(errors)


# The operator default and every project override, newest first.
list_rules = OperatorListing(
    PricingRule,
    (
        "id",
        "project_id",
        "price_per_photo_cents",
        "compare_at_price_cents",
        "valid_from",
        "valid_until",
        "is_active",
        "created_at",
        "updated_at",
    ),
)


def get_rule(*, session: Session, operator_id: uuid.UUID, rule_id: uuid.UUID) -> PricingRule:
    rule = session.get(PricingRule, rule_id)
    if rule is None or rule.operator_id != operator_id:
        raise NotFound("Pricing rule not found.")
    return rule


def create_rule(
    *,
    session: Session,
    projects: ProjectsClient,
    operator_id: uuid.UUID,
    price_per_photo_cents: int,
    project_id: uuid.UUID | None = None,
    compare_at_price_cents: int | None = None,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    is_active: bool = True,
) -> PricingRule:
    """A rule for one of the operator's projects, or the operator default when ``project_id`` is None."""
    rule = PricingRule(
        id=uuid.uuid4(),
        operator_id=operator_id,
        project_id=project_id,
        price_per_photo_cents=price_per_photo_cents,
        compare_at_price_cents=compare_at_price_cents,
        valid_from=valid_from,
        valid_until=valid_until,
        is_active=is_active,
    )
    _check(rule)
    if project_id is not None:
        try:
            find_project(
                session=session, projects=projects, project_id=project_id, operator_id=operator_id, for_write=True
            )
        except NotFound as exc:
            raise field_error("projectId", PROJECT_NOT_FOUND, error=NotFound) from exc
    with constraint_errors(session, _overlap_errors()):
        session.add(rule)
    return rule


def update_rule(*, session: Session, operator_id: uuid.UUID, rule_id: uuid.UUID, changes: dict) -> PricingRule:
    """Change price, compare-at price, dates or isActive; the merged rule must still hold together."""
    rule = get_rule(session=session, operator_id=operator_id, rule_id=rule_id)
    if unknown := set(changes) - UPDATABLE:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    with constraint_errors(session, _overlap_errors()):
        for field, value in changes.items():
            setattr(rule, field, value)
        _check(rule)  # the merged rule, so a refused change is rolled back with the savepoint
    return rule


def delete_rule(*, session: Session, operator_id: uuid.UUID, rule_id: uuid.UUID) -> None:
    session.delete(get_rule(session=session, operator_id=operator_id, rule_id=rule_id))
    session.flush()
