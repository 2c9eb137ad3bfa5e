"""Analytics over time (design §11) without HTTP: the window and its limits, zero-filling, who is asked what, and the
query as the view parses it."""

import datetime as dt
import uuid

import pytest
from flask import Flask
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import UnprocessableEntity

from analytics_service.analytics.schemas import ONCE, REPEATED, TimeseriesQueryArgsSchema, TimeseriesSchema
from analytics_service.analytics.timeseries import MAX_BUCKETS, Point, merge, operator_timeseries, window
from backoffice_common.buckets import bucket_count, bucket_starts
from backoffice_common.errors import Unprocessable

D = dt.date.fromisoformat
A = uuid.uuid4()


def test_buckets_are_calendar_days_weeks_from_monday_and_months():
    assert bucket_starts(D("2026-10-30"), D("2026-11-02"), "day") == [
        D("2026-10-30"),
        D("2026-10-31"),
        D("2026-11-01"),
        D("2026-11-02"),
    ]
    # Wednesday 2026-10-28 is in the week of Monday 10-26; Sunday 11-08 in the week of Monday 11-02.
    assert bucket_starts(D("2026-10-28"), D("2026-11-08"), "week") == [D("2026-10-26"), D("2026-11-02")]
    assert bucket_starts(D("2026-11-09"), D("2026-11-09"), "week") == [D("2026-11-09")]
    assert bucket_starts(D("2025-12-31"), D("2026-03-01"), "month") == [
        D("2025-12-01"),
        D("2026-01-01"),
        D("2026-02-01"),
        D("2026-03-01"),
    ]
    for start, end, interval in [
        ("2026-01-01", "2027-02-04", "day"),
        ("2026-01-04", "2026-12-28", "week"),
        ("1990-07-31", "2026-01-01", "month"),
    ]:
        assert bucket_count(D(start), D(end), interval) == len(bucket_starts(D(start), D(end), interval))


def test_the_window_defaults_to_the_30_days_ending_today():
    today = D("2026-11-30")
    assert window(start=None, end=None, interval="day", today=today) == (D("2026-11-01"), today)
    assert window(start=None, end=D("2026-03-01"), interval="week", today=None) == (D("2026-01-31"), D("2026-03-01"))
    assert window(start=D("2026-11-30"), end=None, interval="day", today=today) == (today, today)


def _refused(**kwargs) -> dict:
    with pytest.raises(Unprocessable) as refused:
        window(**kwargs)
    return refused.value.errors


def test_the_window_is_refused_backwards_or_over_400_buckets():
    assert _refused(start=D("2026-11-02"), end=D("2026-11-01"), interval="day", today=None) == {
        "query": {"to": ["Must not be before from."]}
    }
    assert _refused(start=D("2026-12-01"), end=None, interval="day", today=D("2026-11-30")) == {
        "query": {"from": ["Must not be after to, which is today (2026-11-30) when not given."]}
    }
    # 400 days by day is the most; 401 is one too many; the same range by week or month is fine.
    start = D("2026-01-01")
    assert window(start=start, end=start + dt.timedelta(days=MAX_BUCKETS - 1), interval="day", today=None)
    too_long = start + dt.timedelta(days=MAX_BUCKETS)
    assert _refused(start=start, end=too_long, interval="day", today=None) == {
        "query": {
            "interval": [
                "From 2026-01-01 to 2027-02-05 by day is 401 buckets; at most 400: "
                "ask for a shorter range or a longer interval."
            ]
        }
    }
    assert window(start=start, end=too_long, interval="week", today=None) == (start, too_long)
    # A partial week at each end counts as a bucket: 2026-01-01 is a Thursday.
    assert bucket_count(start, start + dt.timedelta(days=(MAX_BUCKETS - 1) * 7 - 3), "week") == MAX_BUCKETS
    assert _refused(start=start, end=start + dt.timedelta(days=(MAX_BUCKETS - 1) * 7 + 4), interval="week", today=None)
    assert _refused(start=D("1990-01-01"), end=D("2026-01-01"), interval="month", today=None)


def test_merge_zero_fills_every_bucket_oldest_first():
    points = merge(
        start=D("2026-10-30"),
        end=D("2026-11-02"),
        interval="day",
        projects=[{"start": "2026-10-31", "membersEnrolled": 2, "photosUploaded": 5}],
        commerce=[
            {"start": "2026-10-31", "purchasesMade": 1, "revenueInCents": 900},
            {"start": "2026-11-02", "purchasesMade": 3, "revenueInCents": 1500},
        ],
    )
    assert points == [
        Point(D("2026-10-30")),
        Point(D("2026-10-31"), 2, 5, 1, 900),
        Point(D("2026-11-01")),
        Point(D("2026-11-02"), 0, 0, 3, 1500),
    ]
    assert TimeseriesSchema().dump({"interval": "day", "timezone": "Asia/Tokyo", "points": points[1:2]}) == {
        "interval": "day",
        "timezone": "Asia/Tokyo",
        "points": [
            {
                "start": "2026-10-31",
                "membersEnrolled": 2,
                "photosUploaded": 5,
                "purchasesMade": 1,
                "revenueInCents": 900,
            }
        ],
    }


class Peers:
    def __init__(self, timezone="Asia/Tokyo", scope=(A,)):
        self.asked: list = []
        self.zone, self.scope = timezone, [str(project_id) for project_id in scope]

    def timezone_of(self, operator_id):
        self.asked.append(("auth", operator_id))
        return self.zone

    def projects(self, operator_id, project_ids, photographer_ids, **window):
        self.asked.append(("projects", project_ids, photographer_ids, window))
        return {
            "projectIds": self.scope,
            "points": [{"start": "2026-11-01", "membersEnrolled": 1, "photosUploaded": 0}],
        }

    def commerce(self, operator_id, project_ids, photographer_ids, **window):
        self.asked.append(("commerce", project_ids, photographer_ids, window))
        return {"points": [{"start": "2026-11-01", "purchasesMade": 1, "revenueInCents": 500}]}

    def ask(self, **kwargs):
        question = dict(project_ids=None, photographer_ids=None, interval="day", start=None, end=None)
        return operator_timeseries(
            timezone_of=self.timezone_of,
            projects_series=self.projects,
            commerce_series=self.commerce,
            operator_id=A,
            now=dt.datetime(2026, 11, 30, 15, 30, tzinfo=dt.UTC),
            **{**question, **kwargs},
        )


def test_today_is_the_operators_today():
    """At 15:30Z on 11-30 it is already 12-01 in Tokyo: the default window ends there."""
    peers = Peers("Asia/Tokyo")
    series = peers.ask()
    asked = {"timezone": "Asia/Tokyo", "interval": "day", "start": D("2026-11-02"), "end": D("2026-12-01")}
    assert peers.asked == [("auth", A), ("projects", None, None, asked), ("commerce", [str(A)], None, asked)]
    assert series.timezone == "Asia/Tokyo" and series.interval == "day" and len(series.points) == 30
    assert Peers("America/Los_Angeles").ask().points[-1].start == D("2026-11-30")


def test_commerce_is_asked_about_exactly_the_scope_and_not_at_all_when_it_is_empty():
    peers = Peers(scope=())
    series = peers.ask(project_ids=[uuid.uuid4()], photographer_ids=[A], start=D("2026-11-01"), end=D("2026-11-01"))
    assert [who for who, *_ in peers.asked] == ["auth", "projects"]
    assert series.points == [Point(D("2026-11-01"), 1, 0, 0, 0)]


def test_a_bad_window_given_whole_is_refused_before_anyone_is_asked():
    peers = Peers()
    with pytest.raises(Unprocessable):
        peers.ask(start=D("2026-11-02"), end=D("2026-11-01"))
    assert peers.asked == []


def _parse(query: str):
    with Flask(__name__).test_request_context(f"/v1/analytics/timeseries?{query}"):
        return FlaskParser().parse(TimeseriesQueryArgsSchema(), location="query", unknown=RAISE)


def _refused_query(query: str) -> dict:
    with pytest.raises(UnprocessableEntity) as refused:
        _parse(query)
    return refused.value.data["messages"]["query"]


def test_the_query_with_its_defaults():
    assert _parse("") == {"project_ids": None, "photographer_ids": None, "start": None, "end": None, "interval": "day"}
    assert _parse(f"from=2026-02-28&to=2026-03-01&interval=month&projectIds={A}") == {
        "project_ids": [A],
        "photographer_ids": None,
        "start": D("2026-02-28"),
        "end": D("2026-03-01"),
        "interval": "month",
    }


@pytest.mark.parametrize(
    "query, errors",
    [
        ("from=2026-02-30", {"from": ["Must be a date of the calendar, YYYY-MM-DD."]}),
        ("to=2026-2-3", {"to": ["Must be a date, YYYY-MM-DD."]}),
        ("to=20260203", {"to": ["Must be a date, YYYY-MM-DD."]}),
        ("from=2026-02-03T00:00:00Z", {"from": ["Must be a date, YYYY-MM-DD."]}),
        ("from=", {"from": ["Must be a date, YYYY-MM-DD."]}),
        ("from=1899-12-31", {"from": ["Must be between 1900-01-01 and 2999-12-31."]}),
        ("interval=year", {"interval": ["Must be one of: day, week, month."]}),
        ("interval=Day", {"interval": ["Must be one of: day, week, month."]}),
        ("interval=day&interval=day", {"interval": [ONCE]}),
        ("from=2026-01-01&from=2026-01-02", {"from": [ONCE]}),
        ("to=2026-01-01&to=2026-01-01", {"to": [ONCE]}),
        (f"projectIds={A}&projectIds={A}", {"projectIds": [REPEATED]}),
        ("start=2026-01-01", {"start": ["Unknown field."]}),
        ("projectId=x&timezone=UTC", {"projectId": ["Unknown field."], "timezone": ["Unknown field."]}),
    ],
)
def test_a_bad_query_is_refused_naming_the_parameter(query, errors):
    assert _refused_query(query) == errors
