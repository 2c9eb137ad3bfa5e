"""The projects side of the operator's analytics (design §7): who was invited, joined, photographed, tagged.

Read from the rollups (migration 0004), never by counting photos, tags or members one by one: five
statements whatever the operator's size — the operator's projects, then, side by side, three of figures and
photos per photographer.

Distinct people over a scope are the one figure that does not add up project by project (a guest of two
projects is one person). ``scope_people`` knows, per person, in how many of the operator's projects they
are; so the people of the scope are either counted directly over the scope's projects, or as every person
of the operator less those found only in the projects outside the scope — whichever side is smaller.
The dashboard's usual scope (every project not archived, with nothing archived) is then a single row.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Text, and_, func, literal, select

from backoffice_common.db import SideBySide
from backoffice_common.rollups import count_distinct, count_distinct_by
from projects_service.models import (
    Member,
    OperatorStats,
    PhotoCounts,
    Photographer,
    Project,
    ProjectCounts,
    ProjectInvitees,
    ProjectTagged,
    ScopePeople,
    TaggedMembers,
)

FORMER_PHOTOGRAPHER = "Former photographer"  # photos outlive a photographer removed from the roster

MEMBER, INVITED, TAGGED = "m", "i", "t"
_OPERATOR_TOTAL = {
    MEMBER: OperatorStats.members_enrolled,
    INVITED: OperatorStats.invited,
    TAGGED: OperatorStats.users_tagged,
}


@dataclass
class ProjectStats:
    """The projects side of the figures: the scope's projects (rows: id, name), people and photo counts, and photos
    per photographer (rows: photographer_id, name, photo_count)."""

    projects: list
    members_enrolled: int = 0
    invited: int = 0
    photos_uploaded: int = 0
    users_tagged: int = 0
    photos_by_photographer: Sequence = field(default_factory=list)


def _people_by_project(kind: str):
    """(project_id, person) of each person of a kind in each project (a participant id, or an email)."""
    if kind == MEMBER:
        return select(Member.project_id, Member.participant_id.label("person"))
    if kind == INVITED:
        return select(ProjectInvitees.project_id, ProjectInvitees.email.label("person")).where(
            ProjectInvitees.invites > 0
        )
    return select(ProjectTagged.project_id, ProjectTagged.participant_id.label("person")).where(
        ProjectTagged.ready_tags > 0, ProjectTagged.member
    )


def _distinct_people(kind: str, operator_id: uuid.UUID, scope: list[uuid.UUID], outside: list[uuid.UUID], direct: bool):
    """A scalar subquery: the distinct people of ``kind`` in the ``scope`` projects."""
    total = (
        select(func.coalesce(func.max(_OPERATOR_TOTAL[kind]), 0))
        .where(OperatorStats.operator_id == operator_id)
        .scalar_subquery()
    )
    if not outside:
        return total
    people = _people_by_project(kind).subquery()
    if direct:
        return count_distinct(people.c.person, people.c.project_id.in_(scope)).scalar_subquery()
    only_outside = (
        select(people.c.person, func.count().label("projects"))
        .where(people.c.project_id.in_(outside))
        .group_by(people.c.person)
        .subquery()
    )
    gone = (
        select(func.count())
        .select_from(only_outside)
        .join(
            ScopePeople,
            and_(
                ScopePeople.operator_id == operator_id,
                ScopePeople.kind == kind,
                ScopePeople.person == func.cast(only_outside.c.person, Text),
                ScopePeople.projects == only_outside.c.projects,
            ),
        )
        .scalar_subquery()
    )
    return total - gone


def analytics_scope(
    *, read: SideBySide, operator_id: uuid.UUID, project_ids: list[uuid.UUID] | None
) -> tuple[list, list[uuid.UUID], bool]:
    """The operator's projects the figures cover — not archived, unless named in ``project_ids`` (ids the
    operator doesn't own match nothing) —, the operator's other projects, and whether counting over the
    scope is cheaper than over the rest (by members, the largest of the people figures)."""
    wanted = None if project_ids is None else set(project_ids)
    [rows] = read(
        (
            select(Project.id, Project.name, Project.status, func.coalesce(ProjectCounts.members, 0).label("members"))
            .outerjoin(ProjectCounts, ProjectCounts.project_id == Project.id)
            .where(Project.operator_id == operator_id)
            .order_by(Project.name, Project.id),
            None,
        )
    )
    scope, outside, scope_size, outside_size = [], [], 0, 0
    for row in rows:
        if (row.status != "archived") if wanted is None else (row.id in wanted):
            scope.append(row)
            scope_size += row.members
        else:
            outside.append(row.id)
            outside_size += row.members
    return scope, outside, scope_size <= outside_size


@dataclass(frozen=True)
class Scope:
    project_ids: list[uuid.UUID]


def scope_of(*, read: SideBySide, operator_id: uuid.UUID, project_ids: list[uuid.UUID] | None) -> Scope:
    """The ids of :func:`analytics_scope`'s projects. Asked about these ids by name, ``project_stats`` covers exactly
    them, whatever happened to them since (archived meanwhile, say), as commerce does."""
    projects, _, _ = analytics_scope(read=read, operator_id=operator_id, project_ids=project_ids)
    return Scope(project_ids=[project.id for project in projects])


def project_stats(
    *,
    read: SideBySide,
    operator_id: uuid.UUID,
    project_ids: list[uuid.UUID] | None,
    photographer_ids: list[uuid.UUID] | None,
) -> ProjectStats:
    """Counts over the scope; ``photographer_ids`` narrows the photo and tag figures to their photos.

    Everything is read through ``read``: the scope first (it chooses the statements), then the figures, four
    independent statements given together — ``Database.read_side_by_side`` reads them at once, so a narrowed
    scope's distinct counts (the ones that grow with the data) take the slowest one's time, not their sum;
    ``one_after_another(session)`` reads them in turn on a session (tests)."""
    projects, outside, direct = analytics_scope(read=read, operator_id=operator_id, project_ids=project_ids)
    scope = [project.id for project in projects]
    if not scope:
        return ProjectStats(projects=projects)

    photos = [PhotoCounts.project_id.in_(scope), PhotoCounts.ready > 0]
    if photographer_ids is None:
        tagged = _distinct_people(TAGGED, operator_id, scope, outside, direct)
    else:
        photos.append(PhotoCounts.photographer_id.in_(photographer_ids))
        # Tagged by these photographers' photos: counted over their rows of the scope only.
        tagged = count_distinct_by(
            TaggedMembers.participant_id,
            TaggedMembers.photographer_id,
            photographer_ids,
            TaggedMembers.project_id.in_(scope),
            TaggedMembers.ready_tags > 0,
            TaggedMembers.member,
        ).scalar_subquery()
    photo_count = func.sum(PhotoCounts.ready).label("photo_count")
    # Grouped by roster entry: every photographer since removed shares one "former" row (id null).
    by_photographer = (
        select(
            Photographer.id.label("photographer_id"),
            func.coalesce(Photographer.name, literal(FORMER_PHOTOGRAPHER)).label("name"),
            photo_count,
        )
        .select_from(PhotoCounts)
        .outerjoin(Photographer, Photographer.id == PhotoCounts.photographer_id)
        .where(*photos)
        .group_by(Photographer.id, Photographer.name)
        .order_by(photo_count.desc(), "name", Photographer.id)
    )
    members, invited_and_photos, tagged_people, rows = read(
        (select(_distinct_people(MEMBER, operator_id, scope, outside, direct)), None),
        (
            select(
                _distinct_people(INVITED, operator_id, scope, outside, direct),
                select(func.coalesce(func.sum(PhotoCounts.ready), 0)).where(*photos).scalar_subquery(),
            ),
            None,
        ),
        (select(tagged), None),
        (by_photographer, None),
    )
    [(members_enrolled,)], [(invited, photos_uploaded)], [(users_tagged,)] = members, invited_and_photos, tagged_people
    return ProjectStats(
        projects=projects,
        members_enrolled=int(members_enrolled),
        invited=int(invited),
        photos_uploaded=int(photos_uploaded),
        users_tagged=int(users_tagged),
        photos_by_photographer=rows,
    )
