"""The operator's purchases: one page of the list (plain rows, the fast path), one purchase with its photos,
and whether an operator has any."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Select, bindparam, exists, func, select
from sqlalchemy.orm import Session

from backoffice_common.answers import Rendered
from backoffice_common.errors import Forbidden, NotFound, ServiceUnavailable
from commerce_service.clients.projects import ProjectsClient
from commerce_service.models import Purchase, PurchaseCounts, PurchaseItem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurchaseDetail:
    """A purchase as the detail and checkout show it: the model, its project's name (the current one, or the one
    it was bought under), the photos it bought, and — for checkout — the client secret of its PaymentIntent."""

    purchase: Purchase
    project_name: str
    downloads: list[uuid.UUID]
    client_secret: str | None = None

    def __getattr__(self, name: str):  # the purchase's own fields, for the schema
        if name.startswith("__") or name == "purchase":
            raise AttributeError(name)
        return getattr(self.purchase, name)


@dataclass(frozen=True)
class PurchasePage:
    items: list
    total: int
    page: int
    limit: int


def known_names(projects: ProjectsClient, project_ids, *, cached: bool = False) -> dict[uuid.UUID, str]:
    """Projects' current names (``cached``: up to PROJECT_CACHE_TTL_S old, as lists show them); none while projects
    is down — purchases then keep the names stored at checkout, as they do for a deleted project."""
    try:
        return projects.project_names(project_ids, cached=cached)
    except ServiceUnavailable:
        log.warning("projects unavailable: purchases given the project names they were made under")
        return {}


def current_names(projects: ProjectsClient, purchases: Sequence, *, cached: bool = False) -> dict[uuid.UUID, str]:
    """Each purchase's project name: its current one, else the one stored at checkout."""
    names = known_names(projects, {purchase.project_id for purchase in purchases}, cached=cached)
    return {purchase.project_id: names.get(purchase.project_id, purchase.project_name) for purchase in purchases}


def purchase_photo_ids(*, session: Session, purchase_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        session.scalars(
            select(PurchaseItem.photo_id).where(PurchaseItem.purchase_id == purchase_id).order_by(PurchaseItem.photo_id)
        )
    )


class ListedPurchase(NamedTuple):
    """A listed row with its project's current name in place of the one stored at checkout."""

    id: uuid.UUID
    status: str
    photo_count: int
    subtotal_cents: int
    discount_applied_cents: int
    total_cents: int
    applied_promo_code: str | None
    stripe_payment_intent_id: str | None
    created_at: dt.datetime
    project_id: uuid.UUID
    project_name: str
    participant_id: uuid.UUID
    participant_email: str
    participant_name: str


# What the list shows of a purchase (PurchaseSchema), as plain rows: building ORM entities (and a uuid.UUID
# for ids nobody reads) was most of a page's time. The statements are built once, one per filter.
_LISTED_COLUMNS = tuple(getattr(Purchase, name) for name in ListedPurchase._fields)
_NAME = ListedPurchase._fields.index("project_name")


def _page_and_total(by_project: bool, by_status: bool):
    where = [Purchase.operator_id == bindparam("operator_id")]
    counted = [PurchaseCounts.operator_id == bindparam("operator_id")]
    if by_project:
        where.append(Purchase.project_id == bindparam("project_id"))
        counted.append(PurchaseCounts.project_id == bindparam("project_id"))
    if by_status:
        where.append(Purchase.status == bindparam("status"))
        counted.append(PurchaseCounts.status == bindparam("status"))
    page = (
        select(*_LISTED_COLUMNS)
        .where(*where)
        .order_by(Purchase.created_at.desc(), Purchase.id.desc())
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )
    # The total from the rollup (a few rows per project), not a count of every purchase.
    total = select(func.coalesce(func.sum(PurchaseCounts.purchases), 0)).where(*counted)
    return page, total


_LISTS = {
    (by_project, by_status): _page_and_total(by_project, by_status)
    for by_project in (False, True)
    for by_status in (False, True)
}


def purchase_page(
    *,
    operator_id: uuid.UUID,
    project_id: uuid.UUID | None = None,
    status: str | None = None,
    page: int = 1,
    limit: int = 50,
) -> tuple[tuple[Select, Select], dict]:
    """The statements of one page of the operator's purchases, newest first, and of their total, with their
    parameters."""
    statements = _LISTS[(project_id is not None, status is not None)]
    params = {
        "operator_id": operator_id,
        "project_id": project_id,
        "status": status,
        "offset": (page - 1) * limit,
        "limit": limit,
    }
    return statements, params


def list_purchases(
    *,
    session: Session,
    projects: ProjectsClient,
    operator_id: uuid.UUID,
    project_id: uuid.UUID | None = None,
    status: str | None = None,
    page: int = 1,
    limit: int = 50,
) -> Rendered:
    """One page of the operator's purchases, newest first: two statements, and a call to projects for the names
    it has not seen in the last PROJECT_CACHE_TTL_S. Kept only while those names stay the same."""
    (page_of, total_of), params = purchase_page(
        operator_id=operator_id, project_id=project_id, status=status, page=page, limit=limit
    )
    total = session.scalar(total_of, params)
    rows = session.execute(page_of, params).all()
    names = current_names(projects, rows, cached=True)
    items = [ListedPurchase._make((*row[:_NAME], names[row.project_id], *row[_NAME + 1 :])) for row in rows]
    return Rendered(
        PurchasePage(items=items, total=total, page=page, limit=limit),
        still_valid=_same_names(projects, rows, names),
    )


def _same_names(projects: ProjectsClient, rows: Sequence, names: dict) -> Callable[[], bool]:
    """Whether a kept page still shows its projects' current names: at once while every name it used is still
    cached unchanged (no per-row work on most requests), else by asking for them again."""
    cache = projects.names
    project_ids = {row.project_id for row in rows}
    stamp = [cache.changes, cache.fresh_until(project_ids)]

    def still_valid() -> bool:
        if stamp[0] == cache.changes and cache.clock() < stamp[1]:
            return True
        stamp[:] = [cache.changes, cache.fresh_until(project_ids)]  # read before asking: never too fresh
        return current_names(projects, rows, cached=True) == names

    return still_valid


_ANY_PURCHASE = select(exists().where(Purchase.operator_id == bindparam("operator_id")))


@dataclass(frozen=True)
class OperatorPurchases:
    has_purchases: bool


def operator_purchases(*, session: Session, operator_id: uuid.UUID) -> OperatorPurchases:
    """Whether the operator has any purchase, whatever its status: a pending or failed one may still be paid,
    so each is an amount in the operator's currency (auth refuses a currency change then)."""
    return OperatorPurchases(has_purchases=session.execute(_ANY_PURCHASE, {"operator_id": operator_id}).scalar_one())


def get_purchase(
    *, session: Session, projects: ProjectsClient, operator_id: uuid.UUID, purchase_id: uuid.UUID
) -> PurchaseDetail:
    """A purchase with its photos: 404 when unknown, 403 when another operator's (the contract's exception)."""
    purchase = session.get(Purchase, purchase_id)
    if purchase is None:
        raise NotFound("Purchase not found.")
    if purchase.operator_id != operator_id:
        raise Forbidden("This purchase belongs to another operator.")
    return detail_of(session=session, projects=projects, purchase=purchase)


def detail_of(*, session: Session, projects: ProjectsClient, purchase: Purchase) -> PurchaseDetail:
    """A purchase as its detail shows it: its project's current name, and the photos it bought."""
    return PurchaseDetail(
        purchase,
        project_name=current_names(projects, [purchase])[purchase.project_id],
        downloads=purchase_photo_ids(session=session, purchase_id=purchase.id),
    )
