"""Participants: the people who buy photos, created by the platform's sign-up (design §9)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from auth_service.models import Participant
from backoffice_common.errors import NotFound


def ensure_participant(*, session: Session, email: str, name: str) -> tuple[Participant, bool]:
    """The participant with this email, created if new. Returns (participant, created). Race-safe."""
    created_id = session.scalar(
        insert(Participant)
        .values(email=email, name=name)
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(Participant.id)
    )
    participant = session.scalars(select(Participant).where(Participant.email == email)).one()
    return participant, created_id is not None


@dataclass(frozen=True)
class Lookup:
    registered: list[str]


def lookup(*, session: Session, emails: list[str]) -> Lookup:
    """Which of these emails belong to a participant account (one query, however many emails)."""
    if not emails:
        return Lookup(registered=[])
    return Lookup(registered=list(session.scalars(select(Participant.email).where(Participant.email.in_(set(emails))))))


def participant_by_id(*, session: Session, participant_id: uuid.UUID) -> Participant:
    """A participant by id (projects checks a joining participant's email against this one, design §9)."""
    participant = session.get(Participant, participant_id)
    if participant is None:
        raise NotFound("Participant not found.")
    return participant
