"""The operator's figures over time (design §11): every bucket of a window of the operator's calendar, zero-filled.

Analytics owns no data: auth tells the operator's time zone, projects the scope and its joins and photos made ready
per bucket, commerce the paid purchases and revenue per bucket of exactly that scope — each answering only its
non-empty buckets, computed in SQL in the operator's time zone. Here the window is settled (defaults, limits) and
the answers are merged onto every bucket of it. ``merge`` is a plain function, tested without HTTP.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

from backoffice_common.buckets import bucket_count, bucket_starts
from backoffice_common.errors import field_error

MAX_BUCKETS = 400
DEFAULT_DAYS = 30  # without from: the 30 days ending on to (today, in the operator's time zone, without to)


@dataclass(frozen=True)
class Point:
    start: dt.date
    members_enrolled: int = 0
    photos_uploaded: int = 0
    purchases_made: int = 0
    revenue_in_cents: int = 0


@dataclass(frozen=True)
class Timeseries:
    interval: str
    timezone: str
    points: list[Point]


def window(
    *, start: dt.date | None, end: dt.date | None, interval: str, today: dt.date | None
) -> tuple[dt.date, dt.date]:
    """The days asked about, ``from`` and ``to`` inclusive, with their defaults (``today`` is needed only without
    ``to``); 422 when ``from`` is after ``to`` or the window touches more than ``MAX_BUCKETS`` buckets."""
    if end is None:
        if today is None:
            raise TypeError("today is needed when to is not given")
        end = today
        if start is not None and start > end:
            raise field_error(
                "from", f"Must not be after to, which is today ({today}) when not given.", location="query"
            )
    if start is None:
        start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise field_error("to", "Must not be before from.", location="query")
    count = bucket_count(start, end, interval)
    if count > MAX_BUCKETS:
        raise field_error(
            "interval",
            f"From {start} to {end} by {interval} is {count} buckets; at most {MAX_BUCKETS}: "
            "ask for a shorter range or a longer interval.",
            location="query",
        )
    return start, end


def merge(*, start: dt.date, end: dt.date, interval: str, projects: list[dict], commerce: list[dict]) -> list[Point]:
    """Every bucket of the window, oldest first, with the peers' figures where they had any."""
    joins = {row["start"]: row for row in projects}
    sales = {row["start"]: row for row in commerce}
    points = []
    for first_day in bucket_starts(start, end, interval):
        key = first_day.isoformat()
        people, money = joins.get(key, {}), sales.get(key, {})
        points.append(
            Point(
                start=first_day,
                members_enrolled=people.get("membersEnrolled", 0),
                photos_uploaded=people.get("photosUploaded", 0),
                purchases_made=money.get("purchasesMade", 0),
                revenue_in_cents=money.get("revenueInCents", 0),
            )
        )
    return points


def operator_timeseries(
    *,
    timezone_of: Callable,
    projects_series: Callable,
    commerce_series: Callable,
    operator_id: uuid.UUID,
    project_ids: list[uuid.UUID] | None,
    photographer_ids: list[uuid.UUID] | None,
    interval: str,
    start: dt.date | None,
    end: dt.date | None,
    now: dt.datetime,
) -> Timeseries:
    """Auth first (the time zone places the buckets, and "today" without ``to``), then projects (the scope and its
    figures), then commerce about exactly that scope — none of it when the scope is empty. A window given whole is
    checked before anyone is asked."""
    timezone, today = None, None
    if end is None:
        timezone = timezone_of(operator_id)
        today = now.astimezone(zoneinfo.ZoneInfo(timezone)).date()
    start, end = window(start=start, end=end, interval=interval, today=today)
    timezone = timezone or timezone_of(operator_id)
    asked = {"timezone": timezone, "interval": interval, "start": start, "end": end}
    projects = projects_series(operator_id, project_ids, photographer_ids, **asked)
    scope = projects["projectIds"]
    commerce = commerce_series(operator_id, scope, photographer_ids, **asked)["points"] if scope else []
    return Timeseries(
        interval=interval,
        timezone=timezone,
        points=merge(start=start, end=end, interval=interval, projects=projects["points"], commerce=commerce),
    )
