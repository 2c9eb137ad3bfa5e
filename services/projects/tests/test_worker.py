"""The outbox worker: backoff between attempts, and a failed message kept for later."""

import datetime as dt

import pytest
from sqlalchemy import select

from backoffice_common import webhook_events
from backoffice_common.outbox import backoff
from projects_service import worker
from projects_service.config import Settings
from projects_service.models import OutboxMessage


@pytest.mark.parametrize(
    "attempts, low, high", [(1, 0.5, 1.0), (2, 1.0, 2.0), (5, 8.0, 16.0), (30, 150.0, 300.0), (10_000, 150.0, 300.0)]
)
def test_backoff_doubles_with_jitter_and_a_cap(attempts, low, high):
    for _ in range(50):
        delay = backoff(attempts, base_s=1.0, max_s=300.0).total_seconds()
        assert low <= delay <= high


def test_failed_messages_are_kept_and_retried_later(app, db_session):
    db_session.add_all([OutboxMessage(kind="ok", payload={}), OutboxMessage(kind="boom", payload={"n": 1})])
    db_session.flush()
    seen = []

    def boom(payload):
        raise RuntimeError("R2 is down")

    class _Factory:
        def __call__(self):
            return _Reusable(db_session)

    drained = worker.drain_once(
        session_factory=_Factory(), handlers={"ok": seen.append, "boom": boom}, base_s=60, max_s=60
    )
    assert drained == 2 and seen == [{}]
    left = db_session.scalars(select(OutboxMessage)).all()
    assert [(m.kind, m.attempts) for m in left] == [("boom", 1)]
    assert left[0].last_error == "RuntimeError: R2 is down"
    assert left[0].next_attempt_at > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=25)
    # not due yet: nothing is claimed
    assert worker.drain_once(session_factory=_Factory(), handlers={}, base_s=60, max_s=60) == 0


def test_webhook_events_and_emails_are_drained_in_loops_of_their_own(app, db_session):
    """A bulk invite's 120 emails queued first: the webhook-events loop relays the member.joined at once, and the
    outbox loop never touches it (nor would the webhook loop wait on a slow SMTP server: they run in two threads)."""
    db_session.add_all([OutboxMessage(kind="email.invite", payload={"n": n}) for n in range(120)])
    db_session.add(OutboxMessage(kind=webhook_events.OUTBOX_KIND, payload={"id": "evt_1"}))
    db_session.flush()
    emails, relayed = [], []

    class _Factory:
        def __call__(self):
            return _Reusable(db_session)

    handlers = {"email.invite": emails.append, webhook_events.OUTBOX_KIND: relayed.append}
    loops = {loop.name: loop for loop in worker.loops_for(Settings(), _Factory(), handlers)}
    assert set(loops) == {"outbox", "webhook-events"}
    assert loops["webhook-events"].one_round(lambda: False) is True
    assert relayed == [{"id": "evt_1"}] and emails == []
    for _ in range(3):
        loops["outbox"].one_round(lambda: False)
    assert len(emails) == 120 and relayed == [{"id": "evt_1"}]
    assert loops["webhook-events"].one_round(lambda: False) is False  # nothing left for it
    assert db_session.scalars(select(OutboxMessage)).all() == []


class _Reusable:
    """Lets drain_once's ``with factory() as s, s.begin()`` run inside the test's outer transaction."""

    def __init__(self, session):
        self.session = session

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def begin(self):
        return self.session.begin_nested()

    def __getattr__(self, name):
        return getattr(self.session, name)
