"""Projects as commerce sees them: owned by whom (asked of the projects service), deleted or not, and what
a participant may buy of one."""

from __future__ import annotations

import uuid

from sqlalchemy import Executable, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from backoffice_common.errors import Conflict, Forbidden, NotFound, field_error
from commerce_service.clients.projects import CheckoutFacts, ProjectRef, ProjectsClient
from commerce_service.models import KnownProject, PricingRule, ProjectDiscount

PROJECT_NOT_FOUND = "Project not found."
# The contract: closing a project "prevents new joins; existing members retain access" — buying included.
# Only members can buy, so closed needs no rule of its own beyond being here.
BUYABLE_STATUSES = ("live", "closed")


def check_checkout(facts: CheckoutFacts | None, photo_ids: list[uuid.UUID]) -> CheckoutFacts:
    """The project exists and is live or closed, the participant is a member, and every photo is a ready one of
    it: what both checkout and the quote refuse, in that order (404, 409, 403, 422)."""
    if facts is None:
        raise NotFound(PROJECT_NOT_FOUND)
    if facts.project.status not in BUYABLE_STATUSES:
        raise Conflict(
            "Photos can only be bought from a live project (or a closed one, by its members); "
            f"this one is {facts.project.status}."
        )
    if not facts.member:
        raise Forbidden("The participant is not a member of this project.")
    strangers = sorted({str(photo_id) for photo_id in photo_ids if photo_id not in facts.photographers})
    if strangers:
        raise field_error(
            "photoIds", f"Not ready photos of this project: {', '.join(strangers)}", summary="The request is invalid."
        )
    return facts


def find_project(
    *,
    session: Session,
    projects: ProjectsClient,
    project_id: uuid.UUID,
    operator_id: uuid.UUID | None = None,
    for_write: bool = False,
) -> ProjectRef:
    """The project (the operator's, when ``operator_id`` is given), or 404: unknown, another's, or deleted.

    ``for_write`` upserts the project's ``known_projects`` row, holding its lock until
    commit, so a deletion (which marks that row) can't interleave with the write even
    while the ownership answer is still cached.
    """
    project = projects.get_project(project_id)
    if project is None or (operator_id is not None and project.operator_id != operator_id):
        raise NotFound(PROJECT_NOT_FOUND)
    statement: Executable
    if for_write:
        statement = (
            insert(KnownProject)
            .values(id=project_id)
            .on_conflict_do_update(index_elements=["id"], set_={"id": project_id})
            .returning(KnownProject.deleted_at)
        )
    else:
        statement = select(KnownProject.deleted_at).where(KnownProject.id == project_id)
    if session.scalar(statement) is not None:
        raise NotFound(PROJECT_NOT_FOUND)
    return project


def project_deleted(*, session: Session, project_id: uuid.UUID) -> None:
    """Drop a deleted project's pricing rules and discount links, and remember it is gone (idempotent)."""
    session.execute(
        insert(KnownProject)
        .values(id=project_id, deleted_at=func.now())
        .on_conflict_do_update(
            index_elements=["id"], set_={"deleted_at": func.coalesce(KnownProject.__table__.c.deleted_at, func.now())}
        )
    )
    session.execute(delete(PricingRule).where(PricingRule.project_id == project_id))
    session.execute(delete(ProjectDiscount).where(ProjectDiscount.project_id == project_id))
