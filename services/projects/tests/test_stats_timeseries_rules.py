"""The projects side of analytics over time (design §11): joins and photos made ready per bucket of the operator's
calendar — across a daylight-saving change, midnight in a far-east zone, weeks from Monday — over §7's scope."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import select, text

from projects_service.models import Member, Photo, Project
from projects_service.stats.timeseries import Point, project_timeseries

UTC = dt.UTC


def _at(text_: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text_).astimezone(UTC)


def _project(session, operator_id, name="Gala", status="live"):
    project = Project(id=uuid.uuid4(), operator_id=operator_id, name=name, status=status)
    session.add(project)
    session.flush()
    return project


def _photo(session, project, ready_at=None, *, photographer_id=None, status="ready"):
    photo = Photo(
        id=uuid.uuid4(),
        project_id=project.id,
        photographer_id=photographer_id or uuid.uuid4(),
        object_key=f"k/{uuid.uuid4()}",
        filename="a.jpg",
        content_type="image/jpeg",
        size_bytes=1,
        status=status,
        ready_at=None if ready_at is None else _at(ready_at),
    )
    session.add(photo)
    session.flush()
    return photo


def _member(session, project, joined_at, participant_id=None):
    session.add(
        Member(
            project_id=project.id,
            participant_id=participant_id or uuid.uuid4(),
            email="g@x.io",
            joined_at=_at(joined_at),
        )
    )
    session.flush()


def _series(session, operator_id, *, timezone="UTC", interval="day", start, end, project_ids=None, photographers=None):
    return project_timeseries(
        session=session,
        operator_id=operator_id,
        project_ids=project_ids,
        photographer_ids=photographers,
        timezone=timezone,
        interval=interval,
        start=dt.date.fromisoformat(start),
        end=dt.date.fromisoformat(end),
    )


def test_days_across_the_autumn_daylight_saving_change(db_session):
    """Berlin leaves summer time on Sunday 2026-10-25 (a 25-hour day): 00:30 local that day is 22:30Z the day
    before, 23:30 local is 22:30Z that day, and 00:30 the next day is 23:30Z."""
    operator_id = uuid.uuid4()
    project = _project(db_session, operator_id)
    for moment in ("2026-10-24T21:59:59Z", "2026-10-24T22:30Z", "2026-10-25T22:30Z", "2026-10-25T23:30Z"):
        _photo(db_session, project, moment)
    _member(db_session, project, "2026-10-25T01:30Z")  # 02:30 CET, the hour that happens twice
    series = _series(db_session, operator_id, timezone="Europe/Berlin", start="2026-10-24", end="2026-10-26")
    assert series.project_ids == [project.id]
    assert series.points == [
        Point(dt.date(2026, 10, 24), 0, 1),
        Point(dt.date(2026, 10, 25), 1, 2),
        Point(dt.date(2026, 10, 26), 0, 1),
    ]
    # In UTC the same moments fall on other days.
    assert _series(db_session, operator_id, start="2026-10-24", end="2026-10-26").points == [
        Point(dt.date(2026, 10, 24), 0, 2),
        Point(dt.date(2026, 10, 25), 1, 2),
    ]


def test_days_across_the_spring_daylight_saving_change(db_session):
    """Berlin's 2026-03-29 has 23 hours: it starts at 23:00Z the day before and ends at 22:00Z."""
    operator_id = uuid.uuid4()
    project = _project(db_session, operator_id)
    for moment in ("2026-03-28T22:59Z", "2026-03-28T23:00Z", "2026-03-29T21:59Z", "2026-03-29T22:00Z"):
        _photo(db_session, project, moment)
    assert _series(db_session, operator_id, timezone="Europe/Berlin", start="2026-03-28", end="2026-03-30").points == [
        Point(dt.date(2026, 3, 28), 0, 1),
        Point(dt.date(2026, 3, 29), 0, 2),
        Point(dt.date(2026, 3, 30), 0, 1),
    ]


def test_midnight_in_a_far_east_zone(db_session):
    """Tokyo is UTC+9: 14:59:59Z is 23:59:59 there, 15:00Z the next day; Kiritimati (UTC+14) is a day ahead of
    UTC for most of the day."""
    operator_id = uuid.uuid4()
    project = _project(db_session, operator_id)
    _photo(db_session, project, "2026-11-01T14:59:59Z")
    _photo(db_session, project, "2026-11-01T15:00Z")
    _member(db_session, project, "2026-10-31T15:00Z")  # Nov 1, 00:00 in Tokyo: the window's first moment
    _member(db_session, project, "2026-10-31T14:59:59Z")  # Oct 31 in Tokyo: outside the window
    assert _series(db_session, operator_id, timezone="Asia/Tokyo", start="2026-11-01", end="2026-11-02").points == [
        Point(dt.date(2026, 11, 1), 1, 1),
        Point(dt.date(2026, 11, 2), 0, 1),
    ]
    assert _series(
        db_session, operator_id, timezone="Pacific/Kiritimati", start="2026-11-01", end="2026-11-02"
    ).points == [Point(dt.date(2026, 11, 1), 2, 0), Point(dt.date(2026, 11, 2), 0, 2)]


def test_weeks_start_on_monday_and_months_on_the_first(db_session):
    operator_id = uuid.uuid4()
    project = _project(db_session, operator_id)
    # Sunday 2026-11-01 23:30 in Paris belongs to the week of Monday 2026-10-26; Monday 00:30 to the next one.
    _photo(db_session, project, "2026-11-01T22:30Z")
    _photo(db_session, project, "2026-11-01T23:30Z")
    _photo(db_session, project, "2026-11-30T22:59Z")  # Nov 30, 23:59 in Paris
    _photo(db_session, project, "2026-11-30T23:00Z")  # Dec 1, 00:00 in Paris
    weeks = _series(
        db_session, operator_id, timezone="Europe/Paris", interval="week", start="2026-10-26", end="2026-12-06"
    )
    assert weeks.points == [
        Point(dt.date(2026, 10, 26), 0, 1),
        Point(dt.date(2026, 11, 2), 0, 1),
        Point(dt.date(2026, 11, 30), 0, 2),
    ]
    months = _series(
        db_session, operator_id, timezone="Europe/Paris", interval="month", start="2026-10-01", end="2026-12-31"
    )
    assert months.points == [Point(dt.date(2026, 11, 1), 0, 3), Point(dt.date(2026, 12, 1), 0, 1)]


def test_the_window_clips_a_partial_first_and_last_bucket(db_session):
    """A week's figures count only the days of the window: from a Wednesday, Monday and Tuesday's photos stay out,
    and the bucket is still named by its Monday."""
    operator_id = uuid.uuid4()
    project = _project(db_session, operator_id)
    _photo(db_session, project, "2026-11-02T12:00Z")  # Monday
    _photo(db_session, project, "2026-11-04T12:00Z")  # Wednesday
    _photo(db_session, project, "2026-11-06T12:00Z")  # Friday
    assert _series(db_session, operator_id, interval="week", start="2026-11-04", end="2026-11-05").points == [
        Point(dt.date(2026, 11, 2), 0, 1)
    ]


def test_scope_and_filters(db_session):
    """§7's scope: archived projects only when named, another operator's ids match nothing; photographerIds narrows
    the photos, never the joins; pending photos count nowhere."""
    operator_id = uuid.uuid4()
    ann, bob = uuid.uuid4(), uuid.uuid4()
    alpha, old = _project(db_session, operator_id, "Alpha"), _project(db_session, operator_id, "Old", "archived")
    foreign = _project(db_session, uuid.uuid4(), "Foreign")
    for project in (alpha, old, foreign):
        _photo(db_session, project, "2026-11-02T10:00Z", photographer_id=ann)
        _member(db_session, project, "2026-11-02T09:00Z")
    _photo(db_session, alpha, "2026-11-02T11:00Z", photographer_id=bob)
    _photo(db_session, alpha, photographer_id=ann, status="pending")
    day = dict(start="2026-11-02", end="2026-11-02")
    assert _series(db_session, operator_id, **day).points == [Point(dt.date(2026, 11, 2), 1, 2)]
    named = _series(db_session, operator_id, project_ids=[old.id, foreign.id], **day)
    assert named.project_ids == [old.id] and named.points == [Point(dt.date(2026, 11, 2), 1, 1)]
    assert _series(db_session, operator_id, photographers=[bob], **day).points == [Point(dt.date(2026, 11, 2), 1, 1)]
    assert _series(db_session, operator_id, photographers=[], **day).points == [Point(dt.date(2026, 11, 2), 1, 0)]
    stranger = _series(db_session, uuid.uuid4(), project_ids=[alpha.id], **day)
    assert stranger.project_ids == [] and stranger.points == []


def test_ready_at_is_written_by_the_database_whatever_the_path(db_session):
    """The trigger fills ``ready_at`` when a photo is written ready without one (insert or status change) and keeps
    one given; a ready photo without it is refused (a bulk load with triggers off must fill it)."""
    project = _project(db_session, uuid.uuid4())
    pending = _photo(db_session, project, status="pending")
    inserted = _photo(db_session, project)
    given = _photo(db_session, project, "2026-01-02T03:04:05Z")
    pending.status = "ready"
    db_session.flush()
    now = db_session.scalar(select(text("now()")))
    ready_at = dict(db_session.execute(select(Photo.id, Photo.ready_at).where(Photo.project_id == project.id)).all())
    assert ready_at == {pending.id: now, inserted.id: now, given.id: _at("2026-01-02T03:04:05Z")}
    db_session.execute(text("SET LOCAL session_replication_role = replica"))
    with pytest.raises(Exception, match="ck_photos_ready_at"):
        with db_session.begin_nested():
            _photo(db_session, project)


def test_the_slots_follow_every_change_of_the_facts(db_session):
    """The slot rollups move with inserts, a ready_at repaired, a photo deleted, a project deleted (its rows
    cascading), and agree with a recount from the facts: ``rollups_rebuild()`` then finds nothing to change."""
    operator_id = uuid.uuid4()
    alpha, beta = _project(db_session, operator_id, "Alpha"), _project(db_session, operator_id, "Beta")
    photos = [_photo(db_session, alpha, f"2026-11-02T10:{minute:02d}:00Z") for minute in (0, 14, 15, 59)]
    gone = [_photo(db_session, beta, "2026-11-02T10:00Z") for _ in range(3)]
    _member(db_session, alpha, "2026-11-02T23:59:59Z")
    _member(db_session, beta, "2026-11-02T09:00Z")
    day = dict(start="2026-11-02", end="2026-11-03")
    assert _series(db_session, operator_id, **day).points == [Point(dt.date(2026, 11, 2), 2, 7)]
    photos[0].ready_at = _at("2026-11-03T00:00Z")
    db_session.delete(photos[1])
    db_session.delete(gone[0])
    db_session.flush()
    assert _series(db_session, operator_id, **day).points == [
        Point(dt.date(2026, 11, 2), 2, 4),
        Point(dt.date(2026, 11, 3), 0, 1),
    ]
    db_session.delete(beta)
    db_session.flush()
    db_session.expire_all()
    assert _series(db_session, operator_id, **day).points == [
        Point(dt.date(2026, 11, 2), 1, 2),
        Point(dt.date(2026, 11, 3), 0, 1),
    ]
    assert db_session.scalar(text("SELECT rollups_rebuild()")) == 0
