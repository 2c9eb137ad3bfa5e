"""The projects side of the operator's analytics (design §7): who was invited, joined, photographed, tagged.

Three statements whatever the operator's size: the scope, the headline counts, photos per photographer.
"""
from __future__ import annotations

import uuid

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import Session

from projects_service.models import Invite, Member, Photo, Photographer, PhotoTag, Project

FORMER_PHOTOGRAPHER = "Former photographer"  # photos outlive a photographer removed from the roster


def analytics_scope(*, session: Session, operator_id: uuid.UUID,
                    project_ids: list[uuid.UUID] | None) -> list[dict]:
    """The operator's projects the figures cover: not archived, unless named in ``project_ids``.

    Ids the operator doesn't own simply match nothing.
    """
    statement = select(Project.id, Project.name).where(Project.operator_id == operator_id)
    if project_ids is None:
        statement = statement.where(Project.status != "archived")
    else:
        statement = statement.where(Project.id.in_(project_ids))
    return [dict(row._mapping) for row in session.execute(statement.order_by(Project.name, Project.id))]


def project_stats(*, session: Session, operator_id: uuid.UUID, project_ids: list[uuid.UUID] | None,
                  photographer_ids: list[uuid.UUID] | None) -> dict:
    """Counts over the scope; ``photographer_ids`` narrows the photo and tag figures to their photos."""
    projects = analytics_scope(session=session, operator_id=operator_id, project_ids=project_ids)
    scope = [project["id"] for project in projects]
    figures = {"projects": projects, "members_enrolled": 0, "invited": 0, "photos_uploaded": 0, "users_tagged": 0,
               "photos_by_photographer": []}
    if not scope:
        return figures

    ready_photo = and_(Photo.project_id.in_(scope), Photo.status == "ready")
    if photographer_ids is not None:
        ready_photo = and_(ready_photo, Photo.photographer_id.in_(photographer_ids))
    counts = session.execute(select(
        select(func.count(distinct(Member.participant_id))).where(Member.project_id.in_(scope)).scalar_subquery(),
        select(func.count(distinct(Invite.email))).where(Invite.project_id.in_(scope)).scalar_subquery(),
        select(func.count()).select_from(Photo).where(ready_photo).scalar_subquery(),
        # Tagged people are members of the photo's project (tags are only ever of members, but a
        # tag must not count a person the scope does not enrol).
        select(func.count(distinct(PhotoTag.participant_id))).select_from(PhotoTag)
        .join(Photo, Photo.id == PhotoTag.photo_id)
        .join(Member, and_(Member.project_id == Photo.project_id, Member.participant_id == PhotoTag.participant_id))
        .where(ready_photo).scalar_subquery(),
    )).one()
    figures.update(zip(("members_enrolled", "invited", "photos_uploaded", "users_tagged"), counts))

    photo_count = func.count().label("photo_count")
    # Grouped by roster entry: every photographer since removed shares one "former" row (id null).
    rows = session.execute(
        select(Photographer.id.label("photographer_id"),
               func.coalesce(Photographer.name, FORMER_PHOTOGRAPHER).label("name"), photo_count)
        .select_from(Photo).outerjoin(Photographer, Photographer.id == Photo.photographer_id)
        .where(ready_photo)
        .group_by(Photographer.id, Photographer.name)
        .order_by(photo_count.desc(), "name", Photographer.id))
    figures["photos_by_photographer"] = [dict(row._mapping) for row in rows]
    return figures
