"""The photographer roster: the operator's photographers, kept in step with auth's logins (design §4)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, delete, func, literal_column, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from backoffice_common.db import FOREIGN_KEY_VIOLATION, change_elsewhere, constraint_errors
from backoffice_common.errors import Conflict, NotFound, Unauthorized
from projects_service.clients.auth import AuthClient
from projects_service.models import Assignment, Photographer, Project, locked


@dataclass(frozen=True)
class RosterPhotographer:
    """A roster entry with the (non-archived) projects it is on, as the roster routes show it."""

    id: uuid.UUID
    name: str
    email: str
    created_at: dt.datetime
    updated_at: dt.datetime
    projects: Sequence

    @classmethod
    def of(cls, entry, projects: Sequence) -> RosterPhotographer:
        # (an entry: a Photographer, or a roster row of the same columns)
        return cls(
            id=entry.id,
            name=entry.name,
            email=entry.email,
            created_at=entry.created_at,
            updated_at=entry.updated_at,
            projects=projects,
        )


def roster_entry(
    session: Session, operator_id: uuid.UUID, photographer_id: uuid.UUID, *, lock: str | None = None
) -> Photographer:
    """One of the operator's photographers (404 for anyone else's)."""
    statement = select(Photographer).where(Photographer.id == photographer_id, Photographer.operator_id == operator_id)
    entry = session.scalar(locked(statement, lock))
    if entry is None:
        raise NotFound("Photographer not found.")
    return entry


def put_photographer(
    *, session: Session, photographer_id: uuid.UUID, operator_id: uuid.UUID, name: str, email: str
) -> tuple[Photographer, bool]:
    """Create or update a roster entry (idempotent, so auth may retry). Returns (entry, created)."""
    statement = insert(Photographer).values(id=photographer_id, operator_id=operator_id, name=name, email=email)
    inserted = session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"],
            set_={"name": name, "email": email, "updated_at": func.now()},
            where=Photographer.operator_id == operator_id,
        ).returning(literal_column("xmax = 0"))  # true for a fresh insert, false for an update
    ).scalar()
    if inserted is None:
        raise Conflict("This photographer belongs to another operator.")
    return session.get_one(Photographer, photographer_id, populate_existing=True), inserted


def remove_photographer(*, session: Session, photographer_id: uuid.UUID) -> None:
    session.execute(delete(Photographer).where(Photographer.id == photographer_id))


# The roster route's two statements, built once as plain rows (its answer is kept while their rows are unchanged:
# backoffice_common.answers). The assignments' order ends with the photographer, so it is total.
_ROSTER = (
    select(Photographer.id, Photographer.name, Photographer.email, Photographer.created_at, Photographer.updated_at)
    .where(Photographer.operator_id == bindparam("operator_id"))
    .order_by(Photographer.created_at.desc(), Photographer.id.desc())
)
_ROSTER_PROJECTS = (
    select(Assignment.photographer_id, Project.id, Project.name)
    .join(Project, Project.id == Assignment.project_id)
    .where(Project.operator_id == bindparam("operator_id"), Project.status != "archived")
    .order_by(Project.created_at.desc(), Project.id.desc(), Assignment.photographer_id)
)


def roster_statements(*, operator_id: uuid.UUID) -> tuple[tuple[Select, Select], dict]:
    """The statements of the operator's roster — its photographers, and the (non-archived) projects each is on —
    with their parameters."""
    return (_ROSTER, _ROSTER_PROJECTS), {"operator_id": operator_id}


def list_photographers(*, session, operator_id: uuid.UUID) -> list[RosterPhotographer]:
    """The operator's photographers, newest first, each with the (non-archived) projects they are on. Two
    statements, read by ``session`` (a Session or a Connection)."""
    (roster, assigned), params = roster_statements(operator_id=operator_id)
    entries = session.execute(roster, params).all()
    projects: dict[uuid.UUID, list] = {entry.id: [] for entry in entries}
    if entries:
        for row in session.execute(assigned, params):  # plain rows: the schema reads their id and name
            projects[row.photographer_id].append(row)
    return [RosterPhotographer.of(entry, projects[entry.id]) for entry in entries]


def _with_projects(session: Session, entry: Photographer) -> RosterPhotographer:
    """A roster entry with its (non-archived) projects, as PATCH answers it."""
    rows = session.execute(
        select(Project.id, Project.name)
        .join(Assignment, Assignment.project_id == Project.id)
        .where(Assignment.photographer_id == entry.id, Project.status != "archived")
        .order_by(Project.created_at.desc(), Project.id.desc())
    ).all()
    return RosterPhotographer.of(entry, rows)


def update_photographer(
    *, session: Session, auth: AuthClient, operator_id: uuid.UUID, photographer_id: uuid.UUID, changes: dict
) -> RosterPhotographer:
    """Rename or re-email: auth's login first (409 if the email is taken), then the roster; both or neither."""
    # Locked: two concurrent edits would otherwise each "undo" to a state the other just replaced.
    entry = roster_entry(session, operator_id, photographer_id, lock="update")
    changes = {field: value for field, value in changes.items() if getattr(entry, field) != value}
    if changes:
        before = {field: getattr(entry, field) for field in changes}
        change_elsewhere(
            session,
            lambda: auth.update_photographer(photographer_id, changes),
            undo=lambda: auth.update_photographer(photographer_id, before),
            what="restore photographer in auth",
        )
        for field, value in changes.items():
            setattr(entry, field, value)
        session.flush()
    return _with_projects(session, entry)  # the entry in hand: no second lookup


def delete_photographer(
    *, session: Session, auth: AuthClient, operator_id: uuid.UUID, photographer_id: uuid.UUID
) -> None:
    """Delete roster entry and login together; refused (409) while the photographer is on any project."""
    entry = roster_entry(session, operator_id, photographer_id, lock="update")
    assigned = session.execute(
        select(Project.name, Project.status)
        .join(Assignment)
        .where(Assignment.photographer_id == photographer_id)
        .order_by(Project.name)
    ).all()
    if assigned:
        # Named, archived ones included: those are hidden from the roster's project lists.
        names = ", ".join(f"{name} ({status})" if status == "archived" else name for name, status in assigned[:10])
        names += f" and {len(assigned) - 10} more" if len(assigned) > 10 else ""
        raise Conflict(
            f"The photographer is assigned to {len(assigned)} project(s): {names}. "
            "Remove them from those projects first."
        )
    assigned_meanwhile = Conflict("The photographer was just assigned to a project.")  # the foreign key decides
    with constraint_errors(session, {FOREIGN_KEY_VIOLATION: assigned_meanwhile}):
        session.delete(entry)
    auth.delete_photographer(photographer_id)  # unreachable → 503, and the caller's unit of work rolls back


def current_photographer(*, session: Session, account_id: uuid.UUID, operator_id: uuid.UUID) -> Photographer:
    """The caller's roster entry; a deleted photographer's old token stops here."""
    entry = session.get(Photographer, account_id)
    if entry is None or entry.operator_id != operator_id:
        raise Unauthorized("This photographer account no longer exists.")
    return entry
