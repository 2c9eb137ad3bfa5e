"""Reading projects: the operator's list and detail, and what an assigned photographer may see."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Row, Select, bindparam, func, select
from sqlalchemy.orm import Session

from backoffice_common.errors import NotFound
from backoffice_common.tokens import PHOTOGRAPHER, Identity
from projects_service.models import Assignment, Photographer, Project, ProjectCounts
from projects_service.photographers.rules import current_photographer

# What a list shows of a project: a detail adds the rest (link, terms), and no view shows operator_id.
# (Selecting only these matters at 1,000 rows: every UUID column read is a uuid.UUID built in Python.)
SUMMARY_COLUMNS = (
    "id",
    "name",
    "type",
    "status",
    "location_name",
    "start_at",
    "end_at",
    "timezone",
    "created_at",
    "updated_at",
)


def _counted(columns=None):
    """Project columns (all by default) with their three counts, in one statement (no query per project).

    The counts come from the rollups (migration 0004) rather than from counting members and photos:
    a project list costs the same at 30 photos a project as at 20,000. Plain columns, not ORM entities:
    lists of 1,000 projects spend less time building objects.
    """
    table = Project.__table__.c
    chosen = table if columns is None else [table[name] for name in columns]
    return (
        select(
            *chosen,
            func.coalesce(ProjectCounts.photographers, 0).label("photographer_count"),
            func.coalesce(ProjectCounts.members, 0).label("member_count"),
            func.coalesce(ProjectCounts.ready_photos, 0).label("photo_count"),
        )
        .select_from(Project)
        .outerjoin(ProjectCounts, ProjectCounts.project_id == Project.id)
    )


def _newest_first(statement):
    return statement.order_by(Project.created_at.desc(), Project.id.desc())


# The statements of the read routes are built once, with bound parameters: building one took longer than
# PostgreSQL takes to run it (issue 8's profile of the project list).
_OPERATOR = Project.operator_id == bindparam("operator_id")
_LISTED = _newest_first(_counted(SUMMARY_COLUMNS).where(_OPERATOR, Project.status != "archived"))
_LISTED_BY_STATUS = _newest_first(_counted(SUMMARY_COLUMNS).where(_OPERATOR, Project.status == bindparam("status")))
_ASSIGNED = _newest_first(
    _counted(SUMMARY_COLUMNS)
    .join(Assignment, Assignment.project_id == Project.id)
    .where(Assignment.photographer_id == bindparam("photographer_id"), Project.status != "archived")
)
_DETAIL = _counted().where(Project.id == bindparam("project_id"), _OPERATOR)
_ASSIGNED_DETAIL = _counted().where(
    Project.id == bindparam("project_id"),
    Project.status != "archived",
    select(Assignment)
    .where(Assignment.project_id == Project.id, Assignment.photographer_id == bindparam("photographer_id"))
    .exists(),
)
_PHOTOGRAPHERS_OF = (
    select(Photographer.id, Photographer.name, Photographer.email)
    .join(Assignment, Assignment.photographer_id == Photographer.id)
    .where(Assignment.project_id == bindparam("project_id"))
    .order_by(Photographer.name, Photographer.id)
)


def listed_projects(*, operator_id: uuid.UUID, status: str | None = None) -> tuple[Select, dict]:
    """The statement of the operator's projects, newest first, with its parameters; archived ones only when asked
    for by status."""
    if status:
        return _LISTED_BY_STATUS, {"operator_id": operator_id, "status": status}
    return _LISTED, {"operator_id": operator_id}


def list_projects(*, session: Session, operator_id: uuid.UUID, status: str | None = None) -> Sequence[Row]:
    """The operator's projects, newest first (plain rows)."""
    statement, params = listed_projects(operator_id=operator_id, status=status)
    return session.execute(statement, params).all()


def list_assigned_projects(*, session: Session, photographer_id: uuid.UUID) -> Sequence[Row]:
    return session.execute(_ASSIGNED, {"photographer_id": photographer_id}).all()


def my_projects(*, session: Session, account_id: uuid.UUID, operator_id: uuid.UUID) -> Sequence[Row]:
    """The projects the calling photographer is assigned to (plain rows), once we know the account still exists."""
    me = current_photographer(session=session, account_id=account_id, operator_id=operator_id)
    return list_assigned_projects(session=session, photographer_id=me.id)


def _detail(session: Session, statement, params: dict, *, join_base_url: str) -> dict:
    row = session.execute(statement, params).first()
    if row is None:
        raise NotFound("Project not found.")
    # The row as it is plus its two lists: one built-once statement each, no ORM entity (issue 8's fast path).
    detail = dict(row._mapping)
    detail["photographers"] = session.execute(_PHOTOGRAPHERS_OF, {"project_id": detail["id"]}).mappings().all()
    detail["join_url"] = join_url(join_base_url, detail["id"]) if detail["type"] == "public" else None
    return detail


def join_url(join_base_url: str, project_id: uuid.UUID) -> str:
    """Where participants open a public project (its detail's joinUrl, and what its QR code encodes)."""
    return f"{join_base_url.rstrip('/')}/{project_id}"


def project_detail(*, session: Session, operator_id: uuid.UUID, project_id: uuid.UUID, join_base_url: str) -> dict:
    return _detail(
        session, _DETAIL, {"project_id": project_id, "operator_id": operator_id}, join_base_url=join_base_url
    )


def assigned_project_detail(
    *, session: Session, photographer_id: uuid.UUID, project_id: uuid.UUID, join_base_url: str
) -> dict:
    """A project as its assigned photographer sees it; anything else is 404."""
    return _detail(
        session,
        _ASSIGNED_DETAIL,
        {"project_id": project_id, "photographer_id": photographer_id},
        join_base_url=join_base_url,
    )


def my_project(
    *, session: Session, account_id: uuid.UUID, operator_id: uuid.UUID, project_id: uuid.UUID, join_base_url: str
) -> dict:
    """One project the calling photographer is assigned to (404 otherwise)."""
    me = current_photographer(session=session, account_id=account_id, operator_id=operator_id)
    return assigned_project_detail(
        session=session, photographer_id=me.id, project_id=project_id, join_base_url=join_base_url
    )


def visible_project(*, session: Session, identity: Identity, project_id: uuid.UUID, join_base_url: str) -> dict:
    """A project as the caller may see it: the operator's own, or one a photographer is assigned to."""
    if identity.role == PHOTOGRAPHER:
        return my_project(
            session=session,
            account_id=identity.account_id,
            operator_id=identity.operator_id,
            project_id=project_id,
            join_base_url=join_base_url,
        )
    return project_detail(
        session=session, operator_id=identity.operator_id, project_id=project_id, join_base_url=join_base_url
    )
