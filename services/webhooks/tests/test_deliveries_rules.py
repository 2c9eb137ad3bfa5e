"""Claiming, fairness, retries and the record of attempts — the worker's database moves, on real PostgreSQL."""

import datetime as dt
import uuid
from collections import Counter, namedtuple

import pytest
from sqlalchemy import func, select, text, update

from webhooks_service.deliveries import listing, rules
from webhooks_service.endpoints.rules import update_endpoint
from webhooks_service.events.rules import take_event
from webhooks_service.models import Delivery, DeliveryAttempt, Endpoint

CAPS = rules.Caps(per_endpoint=4, per_operator=8)
RETRIES = rules.Retries(base_s=10, max_s=3600, window=dt.timedelta(hours=24))
NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def endpoint(session, operator_id, *, active=True, events=("purchase.paid",)):
    row = Endpoint(
        operator_id=operator_id, url="http://127.0.0.1:9/", events=list(events), is_active=active, secret="whsec_x"
    )
    session.add(row)
    session.flush()
    return row


def event(session, operator_id, type="purchase.paid"):
    return take_event(
        session=session,
        id="evt_" + uuid.uuid4().hex[:24],
        type=type,
        operator_id=operator_id,
        created_at=NOW,
        data={"n": 1},
    )


def claim(session, slots=32, endpoints=None, operators=None):
    return rules.claim_due(
        session=session,
        slots=slots,
        caps=CAPS,
        in_flight_endpoints=Counter(endpoints or {}),
        in_flight_operators=Counter(operators or {}),
    )


def record(session, claimed, status_code, *, error=None, duration_ms=1, now=NOW):
    return rules.record_attempt(
        session=session,
        claimed=claimed,
        status_code=status_code,
        error=error,
        duration_ms=duration_ms,
        now=now,
        retries=RETRIES,
    )


@pytest.mark.parametrize("attempts, ceiling", [(1, 10), (2, 20), (5, 160), (9, 2560), (10, 3600), (10_000, 3600)])
def test_backoff_is_full_jitter_under_a_capped_exponential(attempts, ceiling):
    delays = [rules.backoff(attempts, base_s=10, max_s=3600).total_seconds() for _ in range(200)]
    assert all(0 <= delay <= ceiling for delay in delays)
    assert max(delays) > ceiling / 2 and min(delays) < ceiling / 2  # spread over the whole range


def test_retries_last_at_least_24_hours():
    """Even with the worst luck (every delay at its ceiling), 24 h hold many attempts; with the best, a failure
    can't end the retries before the window does: only the window ends them."""
    elapsed, attempts = 0.0, 0
    while elapsed < 24 * 3600:
        attempts += 1
        elapsed += min(3600, 10 * 2 ** min(attempts - 1, 30))
    assert attempts >= 24


def test_claims_only_due_deliveries_of_active_endpoints_and_leases_them(db_session):
    operator_id = uuid.uuid4()
    active = endpoint(db_session, operator_id)
    endpoint(db_session, operator_id, active=False)
    kept = event(db_session, operator_id)
    assert kept.deliveries == 1
    claimed = claim(db_session)
    assert [(c.endpoint_id, c.event_id, c.attempts) for c in claimed] == [(active.id, kept.id, 0)]
    assert claimed[0].body.startswith(f'{{"id":"{kept.id}"')
    assert claim(db_session) == []  # leased: not due again until the lease ends
    lease = db_session.scalar(select(Delivery.next_attempt_at).where(Delivery.id == claimed[0].id))
    assert lease > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=50)


def test_a_deactivated_endpoint_keeps_its_deliveries_waiting(db_session):
    operator_id = uuid.uuid4()
    hook = endpoint(db_session, operator_id)
    event(db_session, operator_id)
    paused = update_endpoint(
        session=db_session, operator_id=operator_id, endpoint_id=hook.id, changes={"is_active": False}, prod=False
    )
    assert paused.is_active is False
    assert db_session.scalars(select(Delivery.next_attempt_at).where(Delivery.endpoint_id == hook.id)).all() == [None]
    assert claim(db_session) == []
    update_endpoint(
        session=db_session, operator_id=operator_id, endpoint_id=hook.id, changes={"is_active": True}, prod=False
    )
    assert len(claim(db_session)) == 1


def test_a_busy_endpoint_or_operator_yields_to_others(db_session):
    """Fairness: an endpoint at its cap (a dead one, its sends hanging) is skipped, and so is an operator at its cap;
    other operators' deliveries are claimed though they are due later."""
    slow_operator, other_operator = uuid.uuid4(), uuid.uuid4()
    slow = endpoint(db_session, slow_operator)
    for _ in range(20):
        event(db_session, slow_operator)
    other = endpoint(db_session, other_operator)
    event(db_session, other_operator)
    first = claim(db_session, slots=6)
    assert Counter(c.endpoint_id for c in first) == {slow.id: 4, other.id: 1}  # the cap holds within one claim
    more = claim(db_session, endpoints={slow.id: 4}, operators={slow_operator: 4})
    assert more == []  # the slow endpoint is full, and the other's one delivery is already taken
    second_slow = endpoint(db_session, slow_operator)
    for _ in range(10):
        event(db_session, slow_operator)
    by_operator = claim(db_session, endpoints={slow.id: 4}, operators={slow_operator: 4})
    assert Counter(c.endpoint_id for c in by_operator) == {second_slow.id: 4}  # the operator's cap: 8 in all
    assert claim(db_session, operators={slow_operator: 8}) == []


def backlog(session, hook, count):
    """``count`` deliveries due since an hour ago to ``hook`` (a dead endpoint's backlog), inserted in bulk."""
    session.execute(
        text(
            "INSERT INTO events (id, operator_id, type, created_at, body)"
            " SELECT 'evt_backlog_' || :tag || '_' || n, :operator_id, 'purchase.paid', now(), '{}'"
            " FROM generate_series(1, :count) AS n"
        ),
        {"tag": hook.id.hex[:8], "operator_id": hook.operator_id, "count": count},
    )
    session.execute(
        text(
            "INSERT INTO deliveries (event_id, endpoint_id, operator_id, next_attempt_at, created_at)"
            " SELECT 'evt_backlog_' || :tag || '_' || n, :endpoint_id, :operator_id,"
            " now() - interval '1 hour' + n * interval '1 ms', now() FROM generate_series(1, :count) AS n"
        ),
        {"tag": hook.id.hex[:8], "endpoint_id": hook.id, "operator_id": hook.operator_id, "count": count},
    )


def test_a_dead_endpoints_backlog_does_not_delay_another_operator(db_session):
    """One operator's dead endpoint has thousands of deliveries due for an hour; another operator's new delivery is
    claimed in the very first round, and the backlog takes one endpoint's share (its cap), not the claim."""
    dead_operator, other_operator = uuid.uuid4(), uuid.uuid4()
    dead = endpoint(db_session, dead_operator)
    backlog(db_session, dead, 3000)
    other = endpoint(db_session, other_operator)
    fresh = event(db_session, other_operator)
    first = claim(db_session, slots=32)
    assert Counter(c.endpoint_id for c in first) == {dead.id: 4, other.id: 1}
    assert [c.event_id for c in first if c.endpoint_id == other.id] == [fresh.id]


def test_a_big_backlog_takes_turns_with_the_others(db_session):
    """A resumed (or fast-failing) endpoint's whole backlog due at once: the claim goes round the operators, one
    delivery each, so two free slots go to two operators, not both to the backlog."""
    busy_operator, other_operator = uuid.uuid4(), uuid.uuid4()
    busy = endpoint(db_session, busy_operator)
    backlog(db_session, busy, 500)
    other = endpoint(db_session, other_operator)
    event(db_session, other_operator)
    assert Counter(c.endpoint_id for c in claim(db_session, slots=2)) == {busy.id: 1, other.id: 1}


def test_slow_endpoints_share_a_capped_number_of_threads(db_session):
    slow_operator, fast_operator = uuid.uuid4(), uuid.uuid4()
    slow = endpoint(db_session, slow_operator)
    for _ in range(3):
        event(db_session, slow_operator)
    fast = endpoint(db_session, fast_operator)
    for _ in range(3):
        event(db_session, fast_operator)

    def slow_claim(slow_slots):
        return rules.claim_due(
            session=db_session,
            slots=32,
            caps=CAPS,
            in_flight_endpoints=Counter(),
            in_flight_operators=Counter(),
            slow_endpoints={slow.id},
            slow_slots=slow_slots,
        )

    assert Counter(c.endpoint_id for c in slow_claim(1)) == {slow.id: 1, fast.id: 3}
    assert Counter(c.endpoint_id for c in slow_claim(0)) == {}  # the fast ones are all taken; the slow ones wait
    assert Counter(c.endpoint_id for c in slow_claim(5)) == {slow.id: 2}


def test_fair_choice_goes_round_the_operators_then_their_endpoints():
    a, b = uuid.uuid4(), uuid.uuid4()
    a1, a2, b1 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    Row = namedtuple("Row", "id endpoint_id operator_id")
    rows = [Row(1, a1, a), Row(2, a1, a), Row(3, a1, a), Row(4, a2, a), Row(5, b1, b), Row(6, b1, b)]
    caps = rules.Caps(per_endpoint=2, per_operator=3)

    def choice(slots, **kwargs):
        return rules.fair_choice(
            rows, slots=slots, caps=caps, in_flight_endpoints=Counter(), in_flight_operators=Counter(), **kwargs
        )

    assert choice(3) == [1, 5, 4]
    assert choice(32) == [1, 5, 4, 6, 2]  # a1 stops at 2 (its cap), a at 3
    assert choice(32, slow_endpoints={a1}, slow_slots=0) == [4, 5, 6]


def test_attempts_are_recorded_and_move_the_delivery(db_session):
    operator_id = uuid.uuid4()
    hook = endpoint(db_session, operator_id)
    kept = event(db_session, operator_id)
    (first,) = claim(db_session)
    status = record(db_session, first, 500, duration_ms=12, now=first.created_at + dt.timedelta(seconds=1))
    assert status == "pending"
    delivery = db_session.get(Delivery, first.id, populate_existing=True)
    assert delivery.attempts == 1 and delivery.next_attempt_at <= first.created_at + dt.timedelta(seconds=11)
    db_session.execute(update(Delivery).where(Delivery.id == first.id).values(next_attempt_at=NOW))
    (second,) = claim(db_session)
    assert second.attempts == 1
    later = first.created_at + dt.timedelta(seconds=30)
    assert record(db_session, second, 204, duration_ms=3, now=later) == "succeeded"
    delivery = db_session.get(Delivery, first.id, populate_existing=True)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at, delivery.succeeded_at) == (
        "succeeded",
        2,
        None,
        later,
    )
    shown = listing.list_deliveries(session=db_session, operator_id=operator_id, endpoint_id=hook.id)
    assert [(d.event_id, d.attempt, d.status_code, d.succeeded_at is not None) for d in shown] == [
        (kept.id, 2, 204, True),
        (kept.id, 1, 500, False),
    ]
    assert shown[1].next_attempt_at is not None and shown[0].next_attempt_at is None


def test_a_delivery_fails_after_the_retry_window(db_session):
    operator_id = uuid.uuid4()
    endpoint(db_session, operator_id)
    event(db_session, operator_id)
    (claimed,) = claim(db_session)
    status = record(
        db_session,
        claimed,
        None,
        error="timeout",
        duration_ms=10_000,
        now=claimed.created_at + dt.timedelta(hours=24, seconds=1),
    )
    assert status == "failed"
    delivery = db_session.get(Delivery, claimed.id, populate_existing=True)
    assert (delivery.status, delivery.next_attempt_at) == ("failed", None)


def test_an_attempt_of_a_deleted_endpoint_is_dropped(db_session):
    operator_id = uuid.uuid4()
    hook = endpoint(db_session, operator_id)
    event(db_session, operator_id)
    (claimed,) = claim(db_session)
    db_session.delete(hook)
    db_session.flush()
    assert record(db_session, claimed, 200) is None
    assert db_session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == claimed.id)).all() == []


def test_a_batch_of_attempts_is_recorded_at_once(db_session):
    operator_id = uuid.uuid4()
    hook, gone = endpoint(db_session, operator_id), endpoint(db_session, operator_id)
    for _ in range(3):
        event(db_session, operator_id)
    claimed = claim(db_session)
    assert len(claimed) == 6
    db_session.delete(gone)
    db_session.flush()
    ours = [c for c in claimed if c.endpoint_id == hook.id]
    outcomes = [(200, None), (503, None), (None, "timeout: no answer within 10 s")]
    attempts = [rules.Attempt(c, code, error, 5) for c, (code, error) in zip(ours, outcomes, strict=True)]
    attempts += [rules.Attempt(c, 200, None, 5) for c in claimed if c.endpoint_id == gone.id]
    moved = rules.record_attempts(session=db_session, attempts=attempts, now=NOW, retries=RETRIES)
    assert moved == {ours[0].id: "succeeded", ours[1].id: "pending", ours[2].id: "pending"}
    recorded = db_session.execute(
        select(DeliveryAttempt.delivery_id, DeliveryAttempt.status_code, DeliveryAttempt.error).where(
            DeliveryAttempt.endpoint_id.in_([hook.id, gone.id])
        )
    ).all()
    assert sorted(recorded, key=lambda row: row.delivery_id) == sorted(
        [(c.id, code, error) for c, (code, error) in zip(ours, outcomes, strict=True)]
    )


def test_a_late_recorder_can_not_overwrite_the_worker_that_has_the_lease(db_session):
    """Worker A's send outlived its lease; worker B claimed the delivery again and it succeeded. A's late failure
    is dropped, before B records and after: the delivery stays B's, then succeeded."""
    operator_id = uuid.uuid4()
    endpoint(db_session, operator_id)
    event(db_session, operator_id)
    (late,) = claim(db_session)
    db_session.execute(
        update(Delivery).where(Delivery.id == late.id).values(next_attempt_at=func.now() - dt.timedelta(seconds=1))
    )  # the lease ran out
    (current,) = claim(db_session)
    assert current.leased_until != late.leased_until

    assert record(db_session, late, 500) is None
    assert db_session.get(Delivery, late.id, populate_existing=True).next_attempt_at == current.leased_until
    assert record(db_session, current, 200) == "succeeded"
    assert record(db_session, late, 500) is None
    delivery = db_session.get(Delivery, late.id, populate_existing=True)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("succeeded", 1, None)
    recorded = db_session.scalars(select(DeliveryAttempt.status_code).where(DeliveryAttempt.delivery_id == late.id))
    assert recorded.all() == [200]


@pytest.mark.parametrize("status_code, status", [(500, "pending"), (204, "succeeded")])
def test_an_endpoint_deactivated_mid_send_keeps_its_delivery_unscheduled(db_session, status_code, status):
    operator_id = uuid.uuid4()
    hook = endpoint(db_session, operator_id)
    event(db_session, operator_id)
    (claimed,) = claim(db_session)
    update_endpoint(
        session=db_session, operator_id=operator_id, endpoint_id=hook.id, changes={"is_active": False}, prod=False
    )
    assert record(db_session, claimed, status_code) == status
    delivery = db_session.get(Delivery, claimed.id, populate_existing=True)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (status, 1, None)
    attempt = db_session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == claimed.id)).one()
    assert (attempt.status_code, attempt.next_attempt_at) == (status_code, None)
    assert claim(db_session) == []
