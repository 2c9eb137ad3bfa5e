"""Projects: the operator's events, their status machine, and who may see them."""
from __future__ import annotations

import datetime as dt
import uuid

from backoffice_common.errors import Conflict, NotFound, Unprocessable
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from projects_service.models import Assignment, OutboxMessage, Photo, Photographer, Project, ProjectCounts

# The contract's status machine: (from, to) pairs that are allowed.
TRANSITIONS = frozenset({("draft", "live"), ("live", "draft"), ("live", "closed"), ("closed", "archived")})
R2_BATCH = 1000  # DeleteObjects takes at most 1000 keys
LATE_UPLOAD_LEEWAY = dt.timedelta(minutes=5)  # clock skew and an upload still streaming when its URL expired


def transition(current: str, target: str) -> str:
    """The status after asking for ``target``: the same status is a no-op, others must be in TRANSITIONS."""
    if current != target and (current, target) not in TRANSITIONS:
        raise Conflict(f"A project cannot go from {current} to {target}.",
                       errors={"json": {"status": [f"Allowed from {current}: " + (
                           ", ".join(t for f, t in sorted(TRANSITIONS) if f == current) or "none")]}})
    return target


# What a list shows of a project: a detail adds the rest (link, terms), and no view shows operator_id.
# (Selecting only these matters at 1,000 rows: every UUID column read is a uuid.UUID built in Python.)
SUMMARY_COLUMNS = ("id", "name", "type", "status", "location_name", "start_at", "end_at", "timezone",
                   "created_at", "updated_at")


def _counted(columns=None):
    """Project columns (all by default) with their three counts, in one statement (no query per project).

    The counts come from the rollups (migration 0004) rather than from counting members and photos:
    a project list costs the same at 30 photos a project as at 20,000. Plain columns, not ORM entities:
    lists of 1,000 projects spend less time building objects.
    """
    table = Project.__table__.c
    chosen = table if columns is None else [table[name] for name in columns]
    return (select(*chosen, func.coalesce(ProjectCounts.photographers, 0).label("photographer_count"),
                   func.coalesce(ProjectCounts.members, 0).label("member_count"),
                   func.coalesce(ProjectCounts.ready_photos, 0).label("photo_count"))
            .select_from(Project).outerjoin(ProjectCounts, ProjectCounts.project_id == Project.id))


def _summary(row) -> dict:
    return dict(row._mapping)


def _newest_first(statement):
    return statement.order_by(Project.created_at.desc(), Project.id.desc())


# The statements of the read routes are built once, with bound parameters: building one took longer than
# PostgreSQL takes to run it (issue 8's profile of the project list).
_OPERATOR = Project.operator_id == bindparam("operator_id")
_LISTED = _newest_first(_counted(SUMMARY_COLUMNS).where(_OPERATOR, Project.status != "archived"))
_LISTED_BY_STATUS = _newest_first(_counted(SUMMARY_COLUMNS).where(_OPERATOR, Project.status == bindparam("status")))
_ASSIGNED = _newest_first(_counted(SUMMARY_COLUMNS).join(Assignment, Assignment.project_id == Project.id)
                          .where(Assignment.photographer_id == bindparam("photographer_id"),
                                 Project.status != "archived"))
_DETAIL = _counted().where(Project.id == bindparam("project_id"), _OPERATOR)
_ASSIGNED_DETAIL = _counted().where(
    Project.id == bindparam("project_id"), Project.status != "archived",
    select(Assignment).where(Assignment.project_id == Project.id,
                             Assignment.photographer_id == bindparam("photographer_id")).exists())
_PHOTOGRAPHERS_OF = (select(Photographer.id, Photographer.name, Photographer.email)
                     .join(Assignment, Assignment.photographer_id == Photographer.id)
                     .where(Assignment.project_id == bindparam("project_id"))
                     .order_by(Photographer.name, Photographer.id))


def list_projects(*, session: Session, operator_id: uuid.UUID, status: str | None = None) -> list:
    """The operator's projects, newest first (plain rows); archived ones only when asked for by status."""
    if status:
        return session.execute(_LISTED_BY_STATUS, {"operator_id": operator_id, "status": status}).all()
    return session.execute(_LISTED, {"operator_id": operator_id}).all()


def list_assigned_projects(*, session: Session, photographer_id: uuid.UUID) -> list:
    return session.execute(_ASSIGNED, {"photographer_id": photographer_id}).all()


def _detail(session: Session, statement, params: dict, *, join_base_url: str) -> dict:
    row = session.execute(statement, params).first()
    if row is None:
        raise NotFound("Project not found.")
    detail = _summary(row)
    detail["photographers"] = session.execute(_PHOTOGRAPHERS_OF, {"project_id": detail["id"]}).mappings().all()
    detail["join_url"] = join_url(join_base_url, detail["id"]) if detail["type"] == "public" else None
    return detail


def join_url(join_base_url: str, project_id: uuid.UUID) -> str:
    """Where participants open a public project (its detail's joinUrl, and what its QR code encodes)."""
    return f"{join_base_url.rstrip('/')}/{project_id}"


def project_detail(*, session: Session, operator_id: uuid.UUID, project_id: uuid.UUID, join_base_url: str) -> dict:
    return _detail(session, _DETAIL, {"project_id": project_id, "operator_id": operator_id},
                   join_base_url=join_base_url)


def assigned_project_detail(*, session: Session, photographer_id: uuid.UUID, project_id: uuid.UUID,
                            join_base_url: str) -> dict:
    """A project as its assigned photographer sees it; anything else is 404."""
    return _detail(session, _ASSIGNED_DETAIL, {"project_id": project_id, "photographer_id": photographer_id},
                   join_base_url=join_base_url)


def _locked(statement, lock: str | None):
    """``lock="update"`` before changing or deleting the row; ``"key_share"`` to keep it alive while rows
    referring to it are written (so a concurrent delete waits, instead of a foreign key failing with a 500)."""
    return statement.with_for_update(key_share=lock == "key_share") if lock else statement


def owned_project(session: Session, operator_id: uuid.UUID, project_id: uuid.UUID, *,
                  lock: str | None = None) -> Project:
    statement = select(Project).where(Project.id == project_id, Project.operator_id == operator_id)
    project = session.scalar(_locked(statement, lock))
    if project is None:
        raise NotFound("Project not found.")
    return project


def _check_dates(project: Project) -> None:
    if project.start_at and project.end_at and project.start_at > project.end_at:
        raise Unprocessable(errors={"json": {"endAt": ["Must not be before startAt."]}})


def create_project(*, session: Session, operator_id: uuid.UUID, fields: dict) -> uuid.UUID:
    project = Project(id=uuid.uuid4(), operator_id=operator_id, **{"type": "private", "status": "draft", **fields})
    session.add(project)
    session.flush()
    return project.id


def update_project(*, session: Session, operator_id: uuid.UUID, project_id: uuid.UUID, changes: dict) -> None:
    project = owned_project(session, operator_id, project_id, lock="update")
    for field, value in changes.items():
        setattr(project, field, value)
    _check_dates(project)  # against the merged row: a PATCH may send only one of the two dates
    session.flush()


def change_status(*, session: Session, operator_id: uuid.UUID, project_id: uuid.UUID, status: str) -> None:
    project = owned_project(session, operator_id, project_id, lock="update")
    if transition(project.status, status) != project.status:
        project.status = status
        session.flush()


def roster_entry(session: Session, operator_id: uuid.UUID, photographer_id: uuid.UUID, *,
                 lock: str | None = None) -> Photographer:
    statement = select(Photographer).where(Photographer.id == photographer_id, Photographer.operator_id == operator_id)
    entry = session.scalar(_locked(statement, lock))
    if entry is None:
        raise NotFound("Photographer not found.")
    return entry


def assign_photographer(*, session: Session, operator_id: uuid.UUID, project_id: uuid.UUID,
                        photographer_id: uuid.UUID) -> None:
    owned_project(session, operator_id, project_id, lock="key_share")
    roster_entry(session, operator_id, photographer_id, lock="key_share")
    session.execute(insert(Assignment).values(project_id=project_id, photographer_id=photographer_id)
                    .on_conflict_do_nothing())


def unassign_photographer(*, session: Session, operator_id: uuid.UUID, project_id: uuid.UUID,
                          photographer_id: uuid.UUID) -> None:
    owned_project(session, operator_id, project_id)
    roster_entry(session, operator_id, photographer_id)
    session.execute(delete(Assignment).where(Assignment.project_id == project_id,
                                             Assignment.photographer_id == photographer_id))


def _delete_objects_messages(keys: list[str], **fields) -> list[OutboxMessage]:
    return [OutboxMessage(kind="r2.delete_objects", payload={"keys": list(keys[start:start + R2_BATCH])}, **fields)
            for start in range(0, len(keys), R2_BATCH)]


def delete_project(*, session: Session, operator_id: uuid.UUID, project_id: uuid.UUID,
                   upload_url_ttl: dt.timedelta) -> None:
    """Delete the project's rows now; its R2 objects and commerce rows go through the outbox (design §4)."""
    owned_project(session, operator_id, project_id, lock="update")
    photos = session.execute(select(Photo.object_key, Photo.status).where(Photo.project_id == project_id)
                             .order_by(Photo.object_key)).all()
    session.add_all(_delete_objects_messages([key for key, _ in photos]))
    # A pending photo's presigned URL still works after the project is gone: delete those
    # keys once more when every URL handed out has expired, so a late upload is not left behind.
    pending = [key for key, status in photos if status == "pending"]
    session.add_all(_delete_objects_messages(pending, next_attempt_at=func.now() + upload_url_ttl + LATE_UPLOAD_LEEWAY))
    session.add(OutboxMessage(kind="commerce.project_deleted", payload={"projectId": str(project_id)}))
    # Invitation emails not yet sent would invite people to a project that no longer exists.
    # Rows a worker is sending right now are skipped rather than waited for.
    unsent = (select(OutboxMessage.id).where(OutboxMessage.kind == "email.invite",
                                             OutboxMessage.payload["projectId"].astext == str(project_id))
              .with_for_update(skip_locked=True))
    session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(unsent)))
    session.execute(delete(Project).where(Project.id == project_id))  # rows cascade in the database


def internal_project(*, session: Session, project_id: uuid.UUID) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound("Project not found.")
    return project
