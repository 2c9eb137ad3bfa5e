"""Purchase figures for the analytics service (design §7): paid purchases only, read from the rollups
(migration 0006) — a few rows per project, never the purchases themselves.

Distinct buyers do not add up project by project (one buyer in two projects is one buyer): they are
counted over the scope's rows of ``buyer_projects``, or as the operator's buyers less those who paid
only in projects outside the scope, whichever side holds fewer purchases. Analytics' usual scope —
every project with sales — is then the single row of ``operator_sales``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import and_, func, select

from backoffice_common.db import SideBySide
from backoffice_common.rollups import count_distinct, count_distinct_by
from commerce_service.models import (
    BuyerPhotographers,
    BuyerProjects,
    Buyers,
    OperatorSales,
    PaidSales,
    PhotographerSales,
    PurchaseCounts,
)


@dataclass(frozen=True)
class ProjectFigures:
    project_id: uuid.UUID
    purchases_made: int
    revenue_in_cents: int


@dataclass(frozen=True)
class PurchaseStats:
    purchases_made: int
    revenue_in_cents: int
    buyers: int
    projects: tuple[ProjectFigures, ...]


EMPTY = PurchaseStats(purchases_made=0, revenue_in_cents=0, buyers=0, projects=())


def _scalar(read: SideBySide, statement):
    """The first column of the first row ``statement`` gives (None without one), read through ``read``."""
    [rows] = read((statement, None))
    return rows[0][0] if rows else None


def _paid_by_project(read: SideBySide, operator_id: uuid.UUID) -> dict[uuid.UUID, tuple[int, int]]:
    """Every project of the operator with paid purchases: (purchases, revenue)."""
    [rows] = read(
        (
            select(PurchaseCounts.project_id, PurchaseCounts.purchases, PurchaseCounts.total_cents).where(
                PurchaseCounts.operator_id == operator_id,
                PurchaseCounts.status == "paid",
                PurchaseCounts.purchases > 0,
            ),
            None,
        )
    )
    return {row.project_id: (row.purchases, int(row.total_cents)) for row in rows}


def _buyers(
    read: SideBySide, operator_id: uuid.UUID, scope: set[uuid.UUID], paid: dict[uuid.UUID, tuple[int, int]]
) -> int:
    outside = [project_id for project_id in paid if project_id not in scope]
    in_scope = [project_id for project_id in paid if project_id in scope]
    if not outside:
        return _scalar(read, select(OperatorSales.buyers).where(OperatorSales.operator_id == operator_id)) or 0
    if sum(paid[p][0] for p in in_scope) <= sum(paid[p][0] for p in outside):
        return (
            _scalar(
                read,
                count_distinct(
                    BuyerProjects.participant_id,
                    BuyerProjects.operator_id == operator_id,
                    BuyerProjects.project_id.in_(in_scope),
                    BuyerProjects.purchases > 0,
                ),
            )
            if in_scope
            else 0
        )
    only_outside = (
        select(BuyerProjects.participant_id, func.count().label("projects"))
        .where(
            BuyerProjects.operator_id == operator_id, BuyerProjects.project_id.in_(outside), BuyerProjects.purchases > 0
        )
        .group_by(BuyerProjects.participant_id)
        .subquery()
    )
    # NULL (minus a count) when the operator has no OperatorSales row: no buyers.
    return (
        _scalar(
            read,
            select(
                select(OperatorSales.buyers).where(OperatorSales.operator_id == operator_id).scalar_subquery()
                - select(func.count())
                .select_from(only_outside)
                .join(
                    Buyers,
                    and_(
                        Buyers.operator_id == operator_id,
                        Buyers.participant_id == only_outside.c.participant_id,
                        Buyers.projects == only_outside.c.projects,
                    ),
                )
                .scalar_subquery()
            ),
        )
        or 0
    )


def purchase_stats(
    *,
    read: SideBySide,
    operator_id: uuid.UUID,
    project_ids: list[uuid.UUID],
    photographer_ids: list[uuid.UUID] | None = None,
) -> PurchaseStats:
    """Paid purchases of the operator's ``project_ids``: count, revenue, distinct buyers, and per project.

    Everything is read through ``read``. With ``photographer_ids`` only purchases holding a photo of theirs count,
    and revenue is those photos' shares: three independent statements given together —
    ``Database.read_side_by_side`` reads them at once, so the distinct buyers (the one that grows with the data)
    set the time alone; ``one_after_another(session)`` reads them in turn on a session (tests).
    """
    if not project_ids or photographer_ids == []:
        return EMPTY
    scope = set(project_ids)
    if photographer_ids is None:
        paid = _paid_by_project(read, operator_id)
        per_project = {project_id: figures for project_id, figures in paid.items() if project_id in scope}
        buyers = _buyers(read, operator_id, scope, paid) if per_project else 0
    else:
        photographers = set(photographer_ids)
        purchases, revenue, [(buyers,)] = read(
            (
                select(PaidSales.project_id, func.sum(PaidSales.purchases))
                .where(
                    PaidSales.operator_id == operator_id,
                    PaidSales.project_id.in_(scope),
                    PaidSales.photographers.overlap(sorted(photographers)),
                    PaidSales.purchases > 0,
                )
                .group_by(PaidSales.project_id),
                None,
            ),
            (
                select(PhotographerSales.project_id, func.sum(PhotographerSales.share_cents))
                .where(
                    PhotographerSales.operator_id == operator_id,
                    PhotographerSales.project_id.in_(scope),
                    PhotographerSales.photographer_id.in_(photographers),
                )
                .group_by(PhotographerSales.project_id),
                None,
            ),
            (
                count_distinct_by(
                    BuyerPhotographers.participant_id,
                    BuyerPhotographers.photographer_id,
                    photographers,
                    BuyerPhotographers.operator_id == operator_id,
                    BuyerPhotographers.project_id.in_(scope),
                    BuyerPhotographers.purchases > 0,
                ),
                None,
            ),
        )
        shares = dict(revenue)
        per_project = {
            project_id: (int(count), int(shares.get(project_id, 0))) for project_id, count in purchases if count > 0
        }
    if not per_project:
        return EMPTY
    return PurchaseStats(
        purchases_made=sum(count for count, _ in per_project.values()),
        revenue_in_cents=sum(revenue for _, revenue in per_project.values()),
        buyers=buyers,
        projects=tuple(
            ProjectFigures(project_id=project_id, purchases_made=count, revenue_in_cents=revenue)
            for project_id, (count, revenue) in sorted(per_project.items(), key=lambda kv: str(kv[0]))
        ),
    )
