"""The commerce side of analytics over time (design §11): paid purchases and revenue per bucket of the operator's
calendar, counted exactly as GET /v1/analytics counts them; and ``paid_at``, written whichever path pays."""

import datetime as dt
import random
import uuid

import pytest
from sqlalchemy import select, text

from backoffice_common.db import one_after_another
from commerce_service.models import Purchase
from commerce_service.purchases.status import apply_event, refund
from commerce_service.stats.rules import purchase_stats
from commerce_service.stats.timeseries import Point, purchase_timeseries
from services.commerce.tests.factories import make_purchase
from services.commerce.tests.test_stats_rules import History

OPERATOR, ALPHA, BETA = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def _at(text_: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text_).astimezone(dt.UTC)


def _paid(session, paid_at, *, status="paid", project_id=ALPHA, operator_id=OPERATOR, total=500, **kwargs):
    return make_purchase(
        session,
        operator_id=operator_id,
        project_id=project_id,
        status=status,
        total_cents=total,
        paid_at=None if paid_at is None else _at(paid_at),
        **kwargs,
    )


def _series(session, *, scope=(ALPHA, BETA), timezone="UTC", interval="day", start, end, photographers=None):
    return purchase_timeseries(
        session=session,
        operator_id=OPERATOR,
        project_ids=list(scope),
        photographer_ids=photographers,
        timezone=timezone,
        interval=interval,
        start=dt.date.fromisoformat(start),
        end=dt.date.fromisoformat(end),
    )


def test_paid_purchases_per_day_across_the_daylight_saving_change(db_session):
    """Berlin's 2026-10-25 runs from 22:00Z the day before to 23:00Z (25 hours)."""
    _paid(db_session, "2026-10-24T21:59Z", total=100)
    _paid(db_session, "2026-10-24T22:00Z", total=200)
    _paid(db_session, "2026-10-25T22:59Z", total=400, project_id=BETA)
    _paid(db_session, "2026-10-25T23:00Z", total=800)
    assert _series(db_session, timezone="Europe/Berlin", start="2026-10-24", end="2026-10-26") == [
        Point(dt.date(2026, 10, 24), 1, 100),
        Point(dt.date(2026, 10, 25), 2, 600),
        Point(dt.date(2026, 10, 26), 1, 800),
    ]
    assert _series(db_session, timezone="Asia/Tokyo", interval="month", start="2026-10-01", end="2026-10-31") == [
        Point(dt.date(2026, 10, 1), 4, 1500)
    ]


def test_only_paid_purchases_of_the_scope_count(db_session):
    """Refunded, failed and pending purchases count nowhere (a refund takes a purchase out of its bucket, as out of
    the KPIs); nor do other projects or another operator's purchases of the same project ids."""
    _paid(db_session, "2026-11-02T10:00Z", total=500)
    refunded = _paid(db_session, "2026-11-02T11:00Z", status="paid", total=700)
    _paid(db_session, None, status="failed")
    _paid(db_session, None, status="pending")
    _paid(db_session, "2026-11-02T10:00Z", project_id=uuid.uuid4())
    _paid(db_session, "2026-11-02T10:00Z", operator_id=uuid.uuid4())
    day = dict(start="2026-11-02", end="2026-11-02")
    assert _series(db_session, **day) == [Point(dt.date(2026, 11, 2), 2, 1200)]
    refund(session=db_session, purchase=refunded, now=_at("2026-11-03T00:00Z"))
    assert _series(db_session, **day) == [Point(dt.date(2026, 11, 2), 1, 500)]
    assert _series(db_session, scope=[BETA], **day) == []
    assert _series(db_session, scope=[], **day) == []


def test_narrowed_to_photographers_a_purchase_counts_once_with_their_shares(db_session):
    ann, bob = uuid.uuid4(), uuid.uuid4()
    both = _paid(db_session, "2026-11-02T10:00Z", total=1199, shares=[400, 400])
    db_session.execute(
        text("UPDATE purchase_items SET photographer_id = :ann WHERE purchase_id = :p"), {"ann": ann, "p": both.id}
    )
    _paid(db_session, "2026-11-02T10:00Z", total=399, shares=[399], photographer_id=bob)
    _paid(db_session, "2026-11-03T10:00Z", total=500, shares=[500], photographer_id=bob)
    days = dict(start="2026-11-02", end="2026-11-03")
    assert _series(db_session, photographers=[ann], **days) == [Point(dt.date(2026, 11, 2), 1, 800)]
    assert _series(db_session, photographers=[ann, bob], **days) == [
        Point(dt.date(2026, 11, 2), 2, 1199),
        Point(dt.date(2026, 11, 3), 1, 500),
    ]
    assert _series(db_session, photographers=[], **days) == []


def test_paid_at_is_written_by_the_database_whatever_the_path(db_session):
    """Checkout's free purchase (inserted paid), the webhook's and the sweeper's move to paid (``apply_event``),
    a failed purchase paid after all: each gets the transaction's time; a refund keeps it; a paid purchase
    without one is refused (a bulk load with triggers off must fill it)."""
    free = _paid(db_session, None)
    pending = make_purchase(db_session, operator_id=OPERATOR, project_id=ALPHA)
    failed = make_purchase(db_session, operator_id=OPERATOR, project_id=ALPHA, status="failed")
    for purchase in (pending, failed):
        assert apply_event(session=db_session, purchase=purchase, event_type="payment_intent.succeeded") == "paid"
    refund(session=db_session, purchase=free, now=_at("2030-01-01T00:00Z"))
    now = db_session.scalar(select(text("now()")))
    paid_at = dict(
        db_session.execute(select(Purchase.id, Purchase.paid_at).where(Purchase.operator_id == OPERATOR)).all()
    )
    assert paid_at == {free.id: now, pending.id: now, failed.id: now}
    db_session.execute(text("SET LOCAL session_replication_role = replica"))
    with pytest.raises(Exception, match="ck_purchases_paid_at"):
        with db_session.begin_nested():
            _paid(db_session, None)


@pytest.mark.parametrize("seed", range(3))
def test_summed_over_all_time_the_buckets_are_the_kpis(db_session, seed):
    """After a random history (checkouts, payments, failures, refunds, deletions) with the payments spread over
    two years, the buckets of any interval summed over a window holding them all equal ``purchase_stats``."""
    rng = random.Random(seed)
    history = History(db_session, rng)
    for _ in range(120):
        history.step()
    for purchase_id in db_session.scalars(select(Purchase.id).where(Purchase.paid_at.is_not(None))):
        db_session.execute(
            text("UPDATE purchases SET paid_at = paid_at - make_interval(mins => :m) WHERE id = :p"),
            {"m": rng.randint(0, 2 * 365 * 24 * 60), "p": purchase_id},
        )
    today = dt.date.today()
    for operator in history.operators:
        scope = history.projects[operator][:3]
        for photographers in (None, history.photographers[:2]):
            kpis = purchase_stats(
                read=one_after_another(db_session),
                operator_id=operator,
                project_ids=scope,
                photographer_ids=photographers,
            )
            for interval, timezone in (("day", "Pacific/Kiritimati"), ("week", "America/New_York"), ("month", "UTC")):
                points = purchase_timeseries(
                    session=db_session,
                    operator_id=operator,
                    project_ids=scope,
                    photographer_ids=photographers,
                    timezone=timezone,
                    interval=interval,
                    start=today - dt.timedelta(days=3 * 365),
                    end=today + dt.timedelta(days=1),
                )
                assert len({point.start for point in points}) == len(points)
                assert sum(point.purchases_made for point in points) == kpis.purchases_made
                assert sum(point.revenue_in_cents for point in points) == kpis.revenue_in_cents
