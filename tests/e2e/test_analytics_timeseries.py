"""GET /v1/analytics/timeseries through the gateway (design §11), on data made through the real services, the
moments of the facts then set in the databases (the API stamps them with the present)."""

import datetime as dt
import uuid
import zoneinfo

import pytest
from sqlalchemy import text

from devstack import stripe_events

ZERO = {"membersEnrolled": 0, "photosUploaded": 0, "purchasesMade": 0, "revenueInCents": 0}


def _point(start, members=0, photos=0, purchases=0, revenue=0):
    return {
        "start": start,
        "membersEnrolled": members,
        "photosUploaded": photos,
        "purchasesMade": purchases,
        "revenueInCents": revenue,
    }


@pytest.fixture
def moments(databases):
    """``moments.member(project, guest, at)``, ``.photo(photo_id, at)``, ``.paid(purchase, at)``: when it happened."""

    class Moments:
        @staticmethod
        def _set(database, statement, **values):
            with databases[database].begin() as connection:
                assert connection.execute(text(statement), values).rowcount == 1

        def member(self, project, guest, at):
            self._set(
                "projects",
                "UPDATE members SET joined_at = :at WHERE project_id = :p AND participant_id = :g",
                at=at,
                p=project["id"],
                g=guest["id"],
            )

        def photo(self, photo_id, at):
            self._set("projects", "UPDATE photos SET ready_at = :at WHERE id = :id", at=at, id=photo_id)

        def paid(self, purchase, at):
            self._set("commerce", "UPDATE purchases SET paid_at = :at WHERE id = :id", at=at, id=purchase["id"])

    return Moments()


@pytest.fixture
def world(gw, feed, ready_photos, purchase, moments, new_project):
    """An operator in Berlin. Alpha and Beta live, Old archived; Ann and Bob photograph; guests join and buy.

    Joins: guest 0 Alpha (Oct 25, 00:30 Berlin, the day summer time ends) and Beta (Aug 1); guest 1 Alpha (Oct 26,
    00:30); guest 2 Alpha (Sep 15) and Old (Jul 1). Photos made ready: Ann's three of Alpha at Oct 24 23:59, Oct 25
    00:00 and 23:59; Bob's one of Alpha at Monday Nov 2 00:00, his two of Beta at Sunday Nov 1 23:59; Ann's two of
    Old in June. Paid: guest 0's two Alpha photos of Ann (800, Oct 25), guest 1's Ann + Bob (800, Monday Nov 2 09:00),
    guest 2's one Old photo (400, June 15). Counted nowhere: guest 0's refunded and failed Beta purchases, guest 2's
    pending one in Alpha.
    """
    operator = gw.register_operator(name="Berlin Studio", timezone="Europe/Berlin")
    assert gw.post("/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 400}).status_code == 201
    ann, bob = gw.register_photographer(operator), gw.register_photographer(operator)
    alpha = new_project(operator, name="Alpha", type="public", status="live")
    beta = new_project(operator, name="Beta", type="public", status="live")
    old = new_project(operator, name="Old", type="public", status="live")
    guests = [feed.participant() for _ in range(3)]
    for project, guest, at in [
        (alpha, guests[0], "2026-10-24T22:30:00Z"),
        (beta, guests[0], "2026-08-01T10:00:00Z"),
        (alpha, guests[1], "2026-10-25T23:30:00Z"),
        (alpha, guests[2], "2026-09-15T10:00:00Z"),
        (old, guests[2], "2026-07-01T10:00:00Z"),
    ]:
        assert feed.join(project["id"], guest).status_code == 201
        moments.member(project, guest, at)
    alpha_photos = ready_photos(alpha["id"], ann.id, 3) + ready_photos(alpha["id"], bob.id, 1)
    beta_photos = ready_photos(beta["id"], bob.id, 2)
    old_photos = ready_photos(old["id"], ann.id, 2)
    for photo_id, at in zip(
        alpha_photos + beta_photos + old_photos,
        ["2026-10-24T21:59:00Z", "2026-10-24T22:00:00Z", "2026-10-25T22:59:00Z", "2026-11-01T23:00:00Z"]
        + ["2026-11-01T22:59:00Z"] * 2
        + ["2026-06-01T10:00:00Z"] * 2,
        strict=True,
    ):
        moments.photo(photo_id, at)
    first = purchase(alpha["id"], guests[0], alpha_photos[:2], "paid")
    moments.paid(first, "2026-10-25T12:00:00Z")
    moments.paid(purchase(alpha["id"], guests[1], alpha_photos[2:4], "paid"), "2026-11-02T08:00:00Z")
    moments.paid(purchase(old["id"], guests[2], old_photos[:1], "paid"), "2026-06-15T10:00:00Z")
    purchase(beta["id"], guests[0], beta_photos[:1], "refunded")
    purchase(beta["id"], guests[0], beta_photos[1:], "failed")
    purchase(alpha["id"], guests[2], alpha_photos[:1], "pending")
    for status in ("closed", "archived"):
        assert gw.patch(f"/v1/projects/{old['id']}/status", token=operator.token, json={"status": status}).ok
    return {"operator": operator, "ann": ann, "bob": bob, "alpha": alpha, "beta": beta, "old": old, "first": first}


def _series(gw, operator, **params):
    response = gw.get("/v1/analytics/timeseries", token=operator.token, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_days_across_the_change_from_summer_time(gw, world):
    body = _series(gw, world["operator"], **{"from": "2026-10-23", "to": "2026-10-27"})
    assert body == {
        "interval": "day",
        "timezone": "Europe/Berlin",
        "points": [
            _point("2026-10-23"),
            _point("2026-10-24", photos=1),
            _point("2026-10-25", members=1, photos=2, purchases=1, revenue=800),
            _point("2026-10-26", members=1),
            _point("2026-10-27"),
        ],
    }


def test_weeks_start_on_monday(gw, world):
    body = _series(gw, world["operator"], **{"from": "2026-10-21", "to": "2026-11-08", "interval": "week"})
    assert body["points"] == [
        _point("2026-10-19", members=1, photos=3, purchases=1, revenue=800),
        _point("2026-10-26", members=1, photos=2),
        _point("2026-11-02", photos=1, purchases=1, revenue=800),
    ]


def test_months_zero_filled_over_the_default_scope(gw, world):
    body = _series(gw, world["operator"], **{"from": "2026-06-01", "to": "2026-12-31", "interval": "month"})
    assert body["points"] == [
        _point("2026-06-01"),
        _point("2026-07-01"),
        _point("2026-08-01", members=1),
        _point("2026-09-01", members=1),
        _point("2026-10-01", members=2, photos=3, purchases=1, revenue=800),
        _point("2026-11-01", photos=3, purchases=1, revenue=800),
        _point("2026-12-01"),
    ]


ALL_TIME = {"from": "2020-01-01", "to": "2030-12-31", "interval": "month"}


@pytest.mark.parametrize("scope", ["default", "named", "photographer"])
def test_summed_over_all_time_the_points_are_the_kpis(gw, world, scope, other_operator, new_project):
    """Every figure but membersEnrolled, which the KPIs count as distinct people: guest 0 joined Alpha and Beta."""
    foreign = new_project(other_operator, name="Foreign")
    params, member_rows = {
        "default": ({}, 4),
        "named": ({"projectIds": f"{world['old']['id']},{world['beta']['id']},{foreign['id']}"}, 2),
        "photographer": ({"photographerIds": world["bob"].id}, 4),
    }[scope]
    kpis = gw.get("/v1/analytics", token=world["operator"].token, params=params).json()["kpis"]
    points = _series(gw, world["operator"], **ALL_TIME, **params)["points"]
    assert len(points) == 132
    sums = {name: sum(point[name] for point in points) for name in ZERO}
    assert sums == {
        "membersEnrolled": member_rows,
        "photosUploaded": kpis["photosUploaded"],
        "purchasesMade": kpis["purchasesMade"],
        "revenueInCents": kpis["revenueInCents"],
    }
    expected = {
        "default": {"membersEnrolled": 3, "photosUploaded": 6, "purchasesMade": 2, "revenueInCents": 1600},
        "named": {"membersEnrolled": 2, "photosUploaded": 4, "purchasesMade": 1, "revenueInCents": 400},
        "photographer": {"membersEnrolled": 3, "photosUploaded": 3, "purchasesMade": 1, "revenueInCents": 400},
    }[scope]
    assert {name: kpis[name] for name in expected} == expected


def test_filters_narrow(gw, world):
    window = {"from": "2026-10-24", "to": "2026-11-02"}
    alpha_only = _series(gw, world["operator"], projectIds=world["alpha"]["id"], **window)["points"]
    assert [p["start"] for p in alpha_only if p != _point(p["start"])] == [
        "2026-10-24",
        "2026-10-25",
        "2026-10-26",
        "2026-11-02",
    ]
    assert alpha_only[-1] == _point("2026-11-02", photos=1, purchases=1, revenue=800)
    bobs = _series(gw, world["operator"], photographerIds=world["bob"].id, **window)["points"]
    assert [p for p in bobs if p != _point(p["start"])] == [
        _point("2026-10-25", members=1),  # joins are never narrowed by photographers
        _point("2026-10-26", members=1),
        _point("2026-11-01", photos=2),
        _point("2026-11-02", photos=1, purchases=1, revenue=400),  # Bob's share of guest 1's 800
    ]
    nobody = _series(gw, world["operator"], photographerIds=str(uuid.uuid4()), **window)["points"]
    assert sum(p["photosUploaded"] + p["purchasesMade"] for p in nobody) == 0


def test_a_refund_takes_the_purchase_out_of_its_bucket(gw, world, stripe_webhook):
    """Refunded from Stripe's dashboard (its charge.refunded webhook): out of its bucket and of the KPIs."""
    window = {"from": "2026-10-25", "to": "2026-10-25"}
    assert _series(gw, world["operator"], **window)["points"][0]["purchasesMade"] == 1
    assert stripe_webhook(stripe_events.refund_event(world["first"])).status_code == 200
    assert _series(gw, world["operator"], **window)["points"] == [_point("2026-10-25", members=1, photos=2)]
    assert gw.get("/v1/analytics", token=world["operator"].token).json()["kpis"]["purchasesMade"] == 1


def test_midnight_in_a_far_east_time_zone(gw, feed, ready_photos, moments, new_project):
    """Tokyo is UTC+9 all year: 14:59:59Z is 23:59:59 there, 15:00Z is the next day."""
    operator = gw.register_operator(name="Tokyo Studio", timezone="Asia/Tokyo")
    photographer = gw.register_photographer(operator)
    project = new_project(operator, name="Hanami", type="public", status="live")
    early, late = ready_photos(project["id"], photographer.id, 2)
    moments.photo(early, "2026-11-01T14:59:59Z")
    moments.photo(late, "2026-11-01T15:00:00Z")
    guest = feed.participant()
    assert feed.join(project["id"], guest).status_code == 201
    moments.member(project, guest, "2026-10-31T15:00:00Z")  # Nov 1, 00:00 in Tokyo
    body = _series(gw, operator, **{"from": "2026-11-01", "to": "2026-11-02"})
    assert body["timezone"] == "Asia/Tokyo"
    assert body["points"] == [_point("2026-11-01", members=1, photos=1), _point("2026-11-02", photos=1)]


def test_the_default_is_the_last_30_days_by_day_in_the_operators_time_zone(gw, feed, ready_photos, new_project):
    """Facts made now land in today's bucket, today being the operator's (Kiritimati is UTC+14)."""
    operator = gw.register_operator(name="Line Islands Studio", timezone="Pacific/Kiritimati")
    photographer = gw.register_photographer(operator)
    project = new_project(operator, name="Now", type="public", status="live")
    assert feed.join(project["id"], feed.participant()).status_code == 201
    ready_photos(project["id"], photographer.id, 3)
    today = dt.datetime.now(zoneinfo.ZoneInfo("Pacific/Kiritimati")).date()
    body = _series(gw, operator)
    assert body["interval"] == "day" and body["timezone"] == "Pacific/Kiritimati"
    points = body["points"]
    if points[-1]["start"] != today.isoformat():  # midnight passed in Kiritimati between the two readings
        today = dt.datetime.now(zoneinfo.ZoneInfo("Pacific/Kiritimati")).date()
    assert [p["start"] for p in points] == [(today - dt.timedelta(days=29 - n)).isoformat() for n in range(30)]
    assert points[-1] == _point(today.isoformat(), members=1, photos=3)
    assert all(p == _point(p["start"]) for p in points[:-1])


def test_a_changed_time_zone_moves_the_buckets(gw, world):
    """The operator's profile decides: the same moment is Oct 24 23:59 in Berlin and Oct 24 21:59 in UTC."""
    window = {"from": "2026-10-24", "to": "2026-10-25"}
    berlin = _series(gw, world["operator"], **window)["points"]
    assert [p["photosUploaded"] for p in berlin] == [1, 2]
    assert gw.patch("/v1/operators/me", token=world["operator"].token, json={"timezone": "UTC"}).status_code == 200
    body = _series(gw, world["operator"], **window)
    assert body["timezone"] == "UTC" and [p["photosUploaded"] for p in body["points"]] == [2, 1]


def test_another_operator_sees_none_of_it(gw, other_operator, world):
    for params in ({"projectIds": world["alpha"]["id"]}, {"photographerIds": world["ann"].id}, {}):
        points = _series(gw, other_operator, **ALL_TIME, **params)["points"]
        assert all(point == _point(point["start"]) for point in points)


def _assert_422(response, errors):
    assert response.status_code == 422, response.text
    assert response.json() == {
        "code": 422,
        "status": "Unprocessable Entity",
        "message": response.json()["message"],
        "errors": {"query": errors},
    }


@pytest.mark.parametrize(
    "query, errors",
    [
        ("from=2026-11-02&to=2026-11-01", {"to": ["Must not be before from."]}),
        ("from=2000-01-01", None),  # to is today: thousands of days
        ("from=2020-01-01&to=2021-02-04", None),  # 401 days
        ("from=1990-01-01&to=2026-01-01&interval=month", None),
        ("from=2026-13-01", {"from": ["Must be a date of the calendar, YYYY-MM-DD."]}),
        ("from=2026-1-01", {"from": ["Must be a date, YYYY-MM-DD."]}),
        ("to=2026-02-29", {"to": ["Must be a date of the calendar, YYYY-MM-DD."]}),
        ("to=yesterday", {"to": ["Must be a date, YYYY-MM-DD."]}),
        ("from=2026-11-01T00:00:00Z", {"from": ["Must be a date, YYYY-MM-DD."]}),
        ("interval=hour", {"interval": ["Must be one of: day, week, month."]}),
        ("interval=", {"interval": ["Must be one of: day, week, month."]}),
        ("interval=day&interval=week", {"interval": ["Give this parameter once."]}),
        ("from=2026-11-01&from=2026-11-01", {"from": ["Give this parameter once."]}),
        ("projectIds=nope", {"projectIds": ["Not UUIDs: nope."]}),
        ("projectId=" + str(uuid.uuid4()), {"projectId": ["Unknown field."]}),
        ("timezone=UTC", {"timezone": ["Unknown field."]}),
    ],
)
def test_a_bad_query_is_422_naming_the_parameter(gw, operator, query, errors):
    response = gw.get(f"/v1/analytics/timeseries?{query}", token=operator.token)
    if errors is None:  # too many buckets
        _assert_422(response, {"interval": [response.json()["errors"]["query"]["interval"][0]]})
        assert "at most 400" in response.json()["errors"]["query"]["interval"][0]
    else:
        _assert_422(response, errors)


def test_400_buckets_is_the_most(gw, operator):
    points = _series(gw, operator, **{"from": "2020-01-01", "to": "2021-02-03"})["points"]
    assert len(points) == 400 and points[0]["start"] == "2020-01-01" and points[-1]["start"] == "2021-02-03"


def test_roles(gw, photographer):
    assert gw.get("/v1/analytics/timeseries").status_code == 401
    assert gw.get("/v1/analytics/timeseries", token=photographer.token).status_code == 403


@pytest.mark.parametrize("source", ["auth", "projects", "commerce"])
def test_a_source_down_is_503(gw, stack, operator, new_project, ready_photos, photographer, source):
    project = new_project(operator, name="Any")
    ready_photos(project["id"], photographer.id, 1)
    stack.stop_service(source)
    try:
        response = gw.get("/v1/analytics/timeseries", token=operator.token)
    finally:
        stack.start_service(source)
    assert response.status_code == 503 and response.json()["code"] == 503
