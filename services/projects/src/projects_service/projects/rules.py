"""Projects: the operator's events, their status machine, their photographers, and their deletion."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from backoffice_common.errors import Conflict, NotFound, Unprocessable, field_error
from projects_service.models import Assignment, OutboxMessage, Photo, Project, locked
from projects_service.photographers.rules import roster_entry
from projects_service.projects.listing import project_detail

# The contract's status machine: (from, to) pairs that are allowed.
TRANSITIONS = frozenset({("draft", "live"), ("live", "draft"), ("live", "closed"), ("closed", "archived")})
R2_BATCH = 1000  # DeleteObjects takes at most 1000 keys
LATE_UPLOAD_LEEWAY = dt.timedelta(minutes=5)  # clock skew and an upload still streaming when its URL expired


def transition(current: str, target: str) -> str:
    """The status after asking for ``target``: the same status is a no-op, others must be in TRANSITIONS."""
    if current != target and (current, target) not in TRANSITIONS:
        allowed = ", ".join(t for f, t in sorted(TRANSITIONS) if f == current) or "none"
        raise field_error(
            "status",
            f"Allowed from {current}: {allowed}",
            error=Conflict,
            summary=f"A project cannot go from {current} to {target}.",
        )
    return target


def owned_project(
    session: Session, operator_id: uuid.UUID, project_id: uuid.UUID, *, lock: str | None = None
) -> Project:
    statement = select(Project).where(Project.id == project_id, Project.operator_id == operator_id)
    project = session.scalar(locked(statement, lock))
    if project is None:
        raise NotFound("Project not found.")
    return project


def _check_dates(project: Project) -> None:
    if project.start_at and project.end_at and project.start_at > project.end_at:
        raise field_error("endAt", "Must not be before startAt.", summary=Unprocessable.default_message)


def create_project(*, session: Session, operator_id: uuid.UUID, fields: dict, join_base_url: str) -> dict:
    """Create a draft (or live) project; returns its detail."""
    project = Project(id=uuid.uuid4(), operator_id=operator_id, **{"type": "private", "status": "draft", **fields})
    session.add(project)
    session.flush()
    return project_detail(session=session, operator_id=operator_id, project_id=project.id, join_base_url=join_base_url)


def update_project(
    *, session: Session, operator_id: uuid.UUID, project_id: uuid.UUID, changes: dict, join_base_url: str
) -> dict:
    """Change a project's fields (not its status); returns its detail."""
    project = owned_project(session, operator_id, project_id, lock="update")
    for field, value in changes.items():
        setattr(project, field, value)
    _check_dates(project)  # against the merged row: a PATCH may send only one of the two dates
    session.flush()
    return project_detail(session=session, operator_id=operator_id, project_id=project_id, join_base_url=join_base_url)


def change_status(
    *, session: Session, operator_id: uuid.UUID, project_id: uuid.UUID, status: str, join_base_url: str
) -> dict:
    """Move a project along the status machine; returns its detail."""
    project = owned_project(session, operator_id, project_id, lock="update")
    if transition(project.status, status) != project.status:
        project.status = status
        session.flush()
    return project_detail(session=session, operator_id=operator_id, project_id=project_id, join_base_url=join_base_url)


def assign_photographer(
    *, session: Session, operator_id: uuid.UUID, project_id: uuid.UUID, photographer_id: uuid.UUID
) -> None:
    owned_project(session, operator_id, project_id, lock="key_share")
    roster_entry(session, operator_id, photographer_id, lock="key_share")
    session.execute(
        insert(Assignment).values(project_id=project_id, photographer_id=photographer_id).on_conflict_do_nothing()
    )


def unassign_photographer(
    *, session: Session, operator_id: uuid.UUID, project_id: uuid.UUID, photographer_id: uuid.UUID
) -> None:
    owned_project(session, operator_id, project_id)
    roster_entry(session, operator_id, photographer_id)
    session.execute(
        delete(Assignment).where(Assignment.project_id == project_id, Assignment.photographer_id == photographer_id)
    )


def _delete_objects_messages(keys: list[str], **fields) -> list[OutboxMessage]:
    return [
        OutboxMessage(kind="r2.delete_objects", payload={"keys": list(keys[start : start + R2_BATCH])}, **fields)
        for start in range(0, len(keys), R2_BATCH)
    ]


def delete_project(
    *, session: Session, operator_id: uuid.UUID, project_id: uuid.UUID, upload_url_ttl: dt.timedelta
) -> None:
    """Delete the project's rows now; its R2 objects and commerce rows go through the outbox (design §4)."""
    owned_project(session, operator_id, project_id, lock="update")
    photos = session.execute(
        select(Photo.object_key, Photo.status).where(Photo.project_id == project_id).order_by(Photo.object_key)
    ).all()
    session.add_all(_delete_objects_messages([key for key, _ in photos]))
    # A pending photo's presigned URL still works after the project is gone: delete those
    # keys once more when every URL handed out has expired, so a late upload is not left behind.
    pending = [key for key, status in photos if status == "pending"]
    session.add_all(_delete_objects_messages(pending, next_attempt_at=func.now() + upload_url_ttl + LATE_UPLOAD_LEEWAY))
    session.add(OutboxMessage(kind="commerce.project_deleted", payload={"projectId": str(project_id)}))
    # Invitation emails not yet sent would invite people to a project that no longer exists.
    # Rows a worker is sending right now are skipped rather than waited for.
    unsent = (
        select(OutboxMessage.id)
        .where(OutboxMessage.kind == "email.invite", OutboxMessage.payload["projectId"].astext == str(project_id))
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(unsent)))
    session.execute(delete(Project).where(Project.id == project_id))  # rows cascade in the database


def internal_project(*, session: Session, project_id: uuid.UUID) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound("Project not found.")
    return project
