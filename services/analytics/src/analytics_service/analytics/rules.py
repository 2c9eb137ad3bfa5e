"""The operator's analytics (design §7), composed from the projects and commerce figures.

``compose`` is a plain function over the two services' answers, so the rules (scope, funnel,
orderings) are tested without HTTP; ``operator_analytics`` asks projects for the scope, then both services at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Kpis:
    members_enrolled: int
    revenue_in_cents: int
    photos_uploaded: int
    users_tagged: int
    purchases_made: int


@dataclass(frozen=True)
class ProjectRevenue:
    project_name: str
    purchases_made: int
    revenue_in_cents: int


@dataclass(frozen=True)
class Funnel:
    invited: int
    enrolled: int
    tagged: int
    purchased: int


@dataclass(frozen=True)
class OperatorAnalytics:
    kpis: Kpis
    photos_by_photographer: list[dict]  # projects' rows as they come (name, photoCount), in its order
    revenue_by_project: list[ProjectRevenue]
    conversion_funnel: Funnel


def compose(projects: dict, commerce: dict) -> OperatorAnalytics:
    """The figures of the contract from projects' ``/internal/stats`` and commerce's ``/internal/stats`` answers."""
    sales = {row["projectId"]: row for row in commerce["projects"]}
    revenue_by_project = [
        ProjectRevenue(
            project_name=project["name"],
            purchases_made=sales.get(project["id"], {}).get("purchasesMade", 0),
            revenue_in_cents=sales.get(project["id"], {}).get("revenueInCents", 0),
        )
        for project in projects["projects"]
    ]
    # Highest revenue first (design §7); then most purchases, then by name, so the order is stable.
    revenue_by_project.sort(key=lambda row: (-row.revenue_in_cents, -row.purchases_made, row.project_name))
    return OperatorAnalytics(
        kpis=Kpis(
            members_enrolled=projects["membersEnrolled"],
            revenue_in_cents=commerce["revenueInCents"],
            photos_uploaded=projects["photosUploaded"],
            users_tagged=projects["usersTagged"],
            purchases_made=commerce["purchasesMade"],
        ),
        photos_by_photographer=projects["photosByPhotographer"],
        revenue_by_project=revenue_by_project,
        conversion_funnel=Funnel(
            invited=projects["invited"],
            enrolled=projects["membersEnrolled"],
            tagged=projects["usersTagged"],
            purchased=commerce["buyers"],
        ),
    )


NO_SALES = {"purchasesMade": 0, "revenueInCents": 0, "buyers": 0, "projects": []}


NO_FIGURES = {
    "projects": [],
    "membersEnrolled": 0,
    "invited": 0,
    "photosUploaded": 0,
    "usersTagged": 0,
    "photosByPhotographer": [],
}


def operator_analytics(
    *,
    scope_of: Callable,
    projects_stats: Callable,
    commerce_stats: Callable,
    at_once: Callable,
    operator_id: uuid.UUID,
    project_ids: list[uuid.UUID] | None,
    photographer_ids: list[uuid.UUID] | None,
) -> OperatorAnalytics:
    """Projects decides the scope (which of the ids are the operator's, archived or not); both services are then
    asked about exactly those projects, by id, side by side (``at_once``), so neither side needs the other's rules
    and the slower of the two sets the time, not their sum (issue 8: each counts distinct people)."""
    scope = scope_of(operator_id, project_ids)
    if not scope:
        return compose(NO_FIGURES, NO_SALES)
    projects, commerce = at_once(
        lambda: projects_stats(operator_id, scope, photographer_ids),
        lambda: commerce_stats(operator_id, scope, photographer_ids),
    )
    return compose(projects, commerce)
