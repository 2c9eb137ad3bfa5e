"""The projects side of analytics over time (design §11): joins and photos made ready, per calendar bucket.

Summed from the 15-minute slots of ``member_slots`` and ``photo_slots`` (migration 0006: rollups of
``members.joined_at`` and ``photos.ready_at`` kept by triggers): every time zone's offset is a whole number of
quarter hours, so each slot lies inside one bucket of the operator's calendar, and a window costs its slots — at
most 96 a day per project (and photographer) — not its photos. Only non-empty buckets are answered; the analytics
service zero-fills.

Buckets and the window are those of ``backoffice_common.buckets``: the operator's calendar days, weeks from Monday or
months, in PostgreSQL's time zone database.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, func, literal, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from backoffice_common.buckets import bucket, in_window, window_params
from backoffice_common.db import one_after_another
from projects_service.models import MemberSlots, PhotoSlots
from projects_service.stats.rules import analytics_scope

_SCOPE: BindParameter[list] = bindparam("scope", expanding=True)
_PHOTOGRAPHERS: BindParameter[list] = bindparam("photographers", expanding=True)


def _sums(table, count, *where, members: bool):
    start, total = bucket(table.slot), func.sum(count)
    return (
        select(
            start.label("start"),
            (total if members else literal(0)).label("members"),
            (literal(0) if members else total).label("photos"),
        )
        .where(table.project_id.in_(_SCOPE), in_window(table.slot), *where)
        .group_by(start)
    )


def _statement(photographers: bool):
    joins = _sums(MemberSlots, MemberSlots.joins, members=True)
    narrowed = [PhotoSlots.photographer_id.in_(_PHOTOGRAPHERS)] if photographers else []
    photos = _sums(PhotoSlots, PhotoSlots.ready, *narrowed, members=False)
    both = union_all(joins, photos).subquery()
    return (
        select(
            both.c.start,
            func.sum(both.c.members).label("members_enrolled"),
            func.sum(both.c.photos).label("photos_uploaded"),
        )
        .group_by(both.c.start)
        .having(func.sum(both.c.members) + func.sum(both.c.photos) > 0)  # slots emptied by deletions
        .order_by(both.c.start)
    )


# Built once (statements at import, values bound); with and without the photographers' filter.
SERIES = {False: _statement(photographers=False), True: _statement(photographers=True)}


@dataclass(frozen=True)
class Point:
    start: dt.date
    members_enrolled: int
    photos_uploaded: int


@dataclass(frozen=True)
class ProjectSeries:
    """The scope's project ids (for commerce to be asked about exactly those) and the non-empty buckets."""

    project_ids: list[uuid.UUID]
    points: list[Point]


def project_timeseries(
    *,
    session: Session,
    operator_id: uuid.UUID,
    project_ids: list[uuid.UUID] | None,
    photographer_ids: list[uuid.UUID] | None,
    timezone: str,
    interval: str,
    start: dt.date,
    end: dt.date,
) -> ProjectSeries:
    """Joins (member rows, not distinct people) and photos made ready per bucket from ``start`` to ``end``
    inclusive, over §7's scope; ``photographer_ids`` narrows the photos, never the joins."""
    projects, _, _ = analytics_scope(read=one_after_another(session), operator_id=operator_id, project_ids=project_ids)
    scope = [project.id for project in projects]
    if not scope:
        return ProjectSeries(project_ids=[], points=[])
    params = {**window_params(timezone=timezone, interval=interval, start=start, end=end), "scope": scope}
    if photographer_ids is not None:
        params["photographers"] = photographer_ids
    rows = session.execute(SERIES[photographer_ids is not None], params)
    return ProjectSeries(
        project_ids=scope,
        points=[Point(row.start, int(row.members_enrolled), int(row.photos_uploaded)) for row in rows],
    )
