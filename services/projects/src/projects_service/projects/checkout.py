"""What commerce needs of projects (design §6, §9): checking a checkout, and naming projects in a purchase list."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from backoffice_common.errors import NotFound
from projects_service.models import Member, Photo, Project


@dataclass(frozen=True)
class CheckoutFacts:
    """What a checkout checks of a project: its status and owner, the buyer's membership, its ready photos."""

    id: uuid.UUID
    name: str
    status: str
    operator_id: uuid.UUID
    member: bool
    photos: Sequence  # plain rows: id, photographer_id


@dataclass(frozen=True)
class ProjectNames:
    projects: Sequence  # plain rows: id, name


def checkout_lookup(
    *, session: Session, project_id: uuid.UUID, participant_id: uuid.UUID, photo_ids: list[uuid.UUID]
) -> CheckoutFacts:
    """The project's status and owner, whether the participant is a member, and which of the photos are its
    ready photos (with their photographers) — everything checkout checks, in one call (404: no such project)."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound("Project not found.")
    member = session.execute(
        select(exists().where(Member.project_id == project_id, Member.participant_id == participant_id))
    ).scalar_one()
    photos = session.execute(
        select(Photo.id, Photo.photographer_id).where(
            Photo.project_id == project_id, Photo.status == "ready", Photo.id.in_(set(photo_ids))
        )
    ).all()
    return CheckoutFacts(
        id=project.id,
        name=project.name,
        status=project.status,
        operator_id=project.operator_id,
        member=member,
        photos=photos,
    )


def project_names(*, session: Session, project_ids: list[uuid.UUID]) -> ProjectNames:
    """The projects among these ids that exist (archived included), for display by other services."""
    if not project_ids:
        return ProjectNames(projects=[])
    return ProjectNames(
        projects=session.execute(select(Project.id, Project.name).where(Project.id.in_(set(project_ids)))).all()
    )
