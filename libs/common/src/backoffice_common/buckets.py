"""Calendar buckets of analytics over time (design §11): days, weeks from Monday and months of one time zone.

The producing services (projects, commerce) count their facts per bucket in SQL with the SQL half of this module;
analytics lists every bucket of a window (zero-filling what they did not answer) with the Python half. Both halves
agree on what a bucket is: the calendar day, ISO week (Monday first) or month that holds a moment *in the
operator's time zone*, named by its first day.

The SQL half binds ``timezone``, ``interval``, ``since`` and ``until`` (:func:`window_params`); PostgreSQL's time
zone database places each moment in its local day, so a day across a daylight-saving change has 23 or 25 hours.
"""

from __future__ import annotations

import datetime as dt

from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import Date, DateTime, bindparam, cast, func
from sqlalchemy.sql.elements import BindParameter

from backoffice_common.api import Schema
from backoffice_common.validators import iana_timezone

INTERVALS = ("day", "week", "month")

_ZONE: BindParameter[str] = bindparam("timezone")


class TimeseriesWindowSchema(Schema):
    """The window of a producer's internal timeseries request (analytics → projects, commerce): its time zone, its
    interval and the dates ``from``..``to`` of the operator's calendar."""

    timezone = fields.String(required=True, validate=iana_timezone)
    interval = fields.String(required=True, validate=validate.OneOf(INTERVALS))
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data["start"] > data["end"]:
            raise ValidationError("Must not be before from.", "to")


def _local_midnight(name: str):
    """Midnight starting the date bound to ``name``, in the operator's time zone, as a moment."""
    return func.timezone(_ZONE, cast(bindparam(name, type_=Date), DateTime))


# The window: from local midnight of its first day (inclusive) to local midnight after its last (exclusive).
SINCE, UNTIL = _local_midnight("since"), _local_midnight("until")


def bucket(moment):
    """SQL: the first day of the bucket holding ``moment`` (a timestamptz column) in the operator's calendar."""
    return cast(func.date_trunc(bindparam("interval"), func.timezone(_ZONE, moment)), Date)


def in_window(moment):
    """SQL: ``moment`` falls in the window — a plain range on the column, so an index on it serves."""
    return (moment >= SINCE) & (moment < UNTIL)


def window_params(*, timezone: str, interval: str, start: dt.date, end: dt.date) -> dict:
    """The values :func:`bucket` and :func:`in_window` bind, for the days ``start`` to ``end`` inclusive."""
    return {"timezone": timezone, "interval": interval, "since": start, "until": end + dt.timedelta(days=1)}


def bucket_start(day: dt.date, interval: str) -> dt.date:
    """The first day of the bucket holding ``day``."""
    if interval == "week":
        return day - dt.timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def next_bucket(start: dt.date, interval: str) -> dt.date:
    """The first day of the bucket after the one starting on ``start``."""
    if interval == "week":
        return start + dt.timedelta(days=7)
    if interval == "month":
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start + dt.timedelta(days=1)


def bucket_count(start: dt.date, end: dt.date, interval: str) -> int:
    """How many buckets the days ``start`` to ``end`` inclusive touch (0 when ``start`` is after ``end``)."""
    if start > end:
        return 0
    first, last = bucket_start(start, interval), bucket_start(end, interval)
    if interval == "week":
        return (last - first).days // 7 + 1
    if interval == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return (last - first).days + 1


def bucket_starts(start: dt.date, end: dt.date, interval: str) -> list[dt.date]:
    """The first day of every bucket the days ``start`` to ``end`` inclusive touch, oldest first."""
    starts: list[dt.date] = []
    current, last = bucket_start(start, interval), bucket_start(end, interval)
    while current <= last:
        starts.append(current)
        current = next_bucket(current, interval)
    return starts
