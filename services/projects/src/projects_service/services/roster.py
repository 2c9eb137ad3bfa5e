"""The photographer roster: kept in step with auth's credentials (design §4)."""
from __future__ import annotations

import uuid

from backoffice_common.errors import Conflict
from sqlalchemy import delete, func, literal_column
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from projects_service.models import Photographer


def put_photographer(*, session: Session, photographer_id: uuid.UUID, operator_id: uuid.UUID, name: str,
                     email: str) -> tuple[Photographer, bool]:
    """Create or update a roster entry (idempotent, so auth may retry). Returns (entry, created)."""
    statement = insert(Photographer).values(id=photographer_id, operator_id=operator_id, name=name, email=email)
    inserted = session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"], set_={"name": name, "email": email, "updated_at": func.now()},
            where=Photographer.operator_id == operator_id,
        ).returning(literal_column("xmax = 0"))  # true for a fresh insert, false for an update
    ).scalar()
    if inserted is None:
        raise Conflict("This photographer belongs to another operator.")
    return session.get(Photographer, photographer_id, populate_existing=True), inserted


def remove_photographer(*, session: Session, photographer_id: uuid.UUID) -> None:
    session.execute(delete(Photographer).where(Photographer.id == photographer_id))
