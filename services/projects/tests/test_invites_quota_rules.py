"""The daily invite quota (issue 9): what is queued counts, per operator and UTC day; past it, nothing is."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from backoffice_common.errors import TooManyRequests
from projects_service.invites import rules as invites
from projects_service.invites.rules import BulkInviteResult
from projects_service.models import Invite, InviteQuota, OutboxMessage
from services.projects.tests.factories import make_project

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TTL = dt.timedelta(days=14)


@pytest.mark.parametrize(
    "now, seconds",
    [
        (dt.datetime(2026, 11, 28, 12, 0, tzinfo=UTC), 12 * 3600),
        (dt.datetime(2026, 11, 28, 0, 0, tzinfo=UTC), 24 * 3600),
        (dt.datetime(2026, 11, 28, 23, 59, 59, 500_000, tzinfo=UTC), 1),
        (dt.datetime(2026, 11, 28, 23, 59, 59, 999_999, tzinfo=UTC), 1),
        # Midnight is UTC's whatever the offset the time is given in.
        (dt.datetime(2026, 11, 28, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))), 3 * 3600),
    ],
)
def test_quota_resets_at_the_next_utc_midnight(now, seconds):
    assert invites.quota_resets_in(now) == seconds


def _take(session, operator_id, count, now=NOW, quota=10):
    invites.take_invite_quota(session=session, operator_id=operator_id, count=count, quota=quota, now=now)


def _used(session, operator_id):
    return session.execute(
        select(InviteQuota.day, InviteQuota.invites).where(InviteQuota.operator_id == operator_id)
    ).one()


def test_counts_up_to_the_quota_and_refuses_a_request_that_would_pass_it(db_session):
    operator_id = uuid.uuid4()
    _take(db_session, operator_id, 6)
    _take(db_session, operator_id, 0)  # a request whose emails were all skipped costs nothing
    with pytest.raises(invites.InviteQuotaExceeded) as refused:
        _take(db_session, operator_id, 5)
    assert isinstance(refused.value, TooManyRequests) and refused.value.status_code == 429
    assert refused.value.headers == {"Retry-After": str(12 * 3600)}
    assert "4 left today" in refused.value.message and "would queue 5" in refused.value.message
    assert _used(db_session, operator_id) == (NOW.date(), 6)  # refused whole: nothing taken
    _take(db_session, operator_id, 4)
    assert _used(db_session, operator_id) == (NOW.date(), 10)
    with pytest.raises(invites.InviteQuotaExceeded):
        _take(db_session, operator_id, 1)


def test_a_new_utc_day_starts_again(db_session):
    operator_id = uuid.uuid4()
    _take(db_session, operator_id, 10)
    _take(db_session, operator_id, 3, now=NOW.replace(hour=23) + dt.timedelta(hours=1))
    assert _used(db_session, operator_id) == (dt.date(2026, 11, 29), 3)


def test_operators_have_their_own_quota(db_session):
    first, second = uuid.uuid4(), uuid.uuid4()
    _take(db_session, first, 10)
    _take(db_session, second, 10)
    assert _used(db_session, second) == (NOW.date(), 10)


def test_more_than_the_whole_quota_is_refused_even_on_a_fresh_day(db_session):
    with pytest.raises(invites.InviteQuotaExceeded):
        _take(db_session, uuid.uuid4(), 11)


def test_bulk_invite_counts_only_what_it_queues_and_queues_nothing_past_the_quota(db_session):
    operator_id = uuid.uuid4()
    project_id = make_project(db_session, operator_id=operator_id).id

    def bulk(emails):
        return invites.bulk_invite(
            session=db_session,
            operator_id=operator_id,
            project_id=project_id,
            emails=emails,
            ttl=TTL,
            now=NOW,
            daily_quota=3,
        )

    assert bulk(["a@x.io", "b@x.io", "a@x.io"]) == BulkInviteResult(queued=2, skipped=1)
    assert bulk(["a@x.io", "b@x.io"]) == BulkInviteResult(queued=0, skipped=2)  # all skipped: allowed at any count
    with pytest.raises(invites.InviteQuotaExceeded):
        bulk(["c@x.io", "d@x.io"])
    assert db_session.scalar(select(func.count()).select_from(Invite).where(Invite.project_id == project_id)) == 2
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.payload["projectId"].astext == str(project_id))
        )
        == 2
    )
    assert bulk(["c@x.io"]) == BulkInviteResult(queued=1, skipped=0)
