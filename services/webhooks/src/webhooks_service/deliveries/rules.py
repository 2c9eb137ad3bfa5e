"""Delivering events (design §12): which deliveries are due and may go now, what an attempt's outcome does to its
delivery (succeeded; retried after an exponential, fully jittered backoff; failed once the retry window is over),
and every attempt recorded. The worker (worker.py) sends; these are its database moves.

A delivery being sent is leased, not locked: claiming pushes its ``next_attempt_at`` forward by ``LEASE`` in a short
transaction, so no transaction stays open across HTTP, another worker does not take it meanwhile, and a worker that
dies mid-send leaves it to be tried again when the lease runs out (at least once)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter, deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    String,
    bindparam,
    case,
    cast,
    column,
    func,
    insert,
    or_,
    select,
    true,
    update,
    values,
)
from sqlalchemy.orm import Session

from webhooks_service.models import Delivery, DeliveryAttempt, Endpoint, Event

# Longer than the longest attempt (connect + total timeouts) with room to record it.
LEASE = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Claimed:
    """A delivery taken for one attempt, with what sending it needs."""

    id: int
    endpoint_id: uuid.UUID
    operator_id: uuid.UUID
    attempts: int  # before this one
    created_at: dt.datetime
    event_id: str
    body: str
    url: str
    secret: str
    leased_until: dt.datetime  # the lease this claim set: recording the attempt checks it is still this one


@dataclass(frozen=True)
class Caps:
    """How many sends one endpoint and one operator may have in flight (the worker's fairness)."""

    per_endpoint: int
    per_operator: int


def backoff(attempts: int, *, base_s: float, max_s: float) -> dt.timedelta:
    """Full jitter: a random delay up to base·2^(n-1), capped at ``max_s`` (the exponent capped so it can't
    overflow): retries of many deliveries that failed together spread out instead of arriving together."""
    ceiling = min(max_s, base_s * 2 ** min(max(0, attempts - 1), 30))
    return dt.timedelta(seconds=random.uniform(0, ceiling))  # noqa: S311 — jitter, not a secret


# The claim's first step: for each active endpoint not at its cap, its oldest due deliveries — at most ``cap`` of
# them (no claim takes more of one endpoint), through ix_deliveries_endpoint_due: a dead endpoint's backlog costs
# one short index probe, never a scan, and never stands in front of another endpoint's deliveries.
_PER_ENDPOINT = (
    select(Delivery.id, Delivery.next_attempt_at)
    .where(
        Delivery.endpoint_id == Endpoint.id,
        Delivery.status == "pending",
        Delivery.next_attempt_at <= func.now(),
    )
    .order_by(Delivery.next_attempt_at)
    .limit(bindparam("per_endpoint"))
    .lateral("due")
)
_CANDIDATES = (
    select(_PER_ENDPOINT.c.id, Endpoint.id.label("endpoint_id"), Endpoint.operator_id)
    .select_from(Endpoint)
    .join(_PER_ENDPOINT, true())
    .where(Endpoint.is_active)
    .order_by(_PER_ENDPOINT.c.next_attempt_at, _PER_ENDPOINT.c.id)
)

# The second: the chosen ones, locked (another worker's are skipped), with what sending them needs.
_DUE = (
    select(
        Delivery.id,
        Delivery.endpoint_id,
        Delivery.operator_id,
        Delivery.attempts,
        Delivery.created_at,
        Event.id,
        Event.body,
        Endpoint.url,
        Endpoint.secret,
    )
    .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
    .join(Event, Event.id == Delivery.event_id)
    .where(Delivery.status == "pending", Delivery.next_attempt_at <= func.now(), Endpoint.is_active)
)


def fair_choice(
    candidates: Sequence[Any],
    *,
    slots: int,
    caps: Caps,
    in_flight_endpoints: Counter,
    in_flight_operators: Counter,
    slow_endpoints: Collection[uuid.UUID] = (),
    slow_slots: int | None = None,
) -> list[int]:
    """Which of the candidates (rows of id, endpoint_id, operator_id; most overdue first) to take: round-robin over
    operators (most overdue first), and within an operator over its endpoints, one delivery at a time — so a big
    backlog (a resumed endpoint, a fast-failing one) takes one turn like everyone else — never beyond an endpoint's
    or an operator's cap, and at most ``slow_slots`` of the ``slow_endpoints`` (those whose attempts take seconds)."""
    queues: dict[uuid.UUID, dict[uuid.UUID, deque[int]]] = {}
    for row in candidates:
        queues.setdefault(row.operator_id, {}).setdefault(row.endpoint_id, deque()).append(row.id)
    endpoints, operators = Counter(in_flight_endpoints), Counter(in_flight_operators)
    slow_left = slots if slow_slots is None else slow_slots
    turns = deque((operator_id, deque(by_endpoint.items())) for operator_id, by_endpoint in queues.items())
    taken: list[int] = []
    while turns and len(taken) < slots:
        operator_id, rotation = turns.popleft()
        if operators[operator_id] >= caps.per_operator:
            continue
        while rotation:
            endpoint_id, ids = rotation.popleft()
            slow = endpoint_id in slow_endpoints
            if endpoints[endpoint_id] >= caps.per_endpoint or (slow and slow_left <= 0):
                continue  # done with this endpoint for this claim
            taken.append(ids.popleft())
            endpoints[endpoint_id] += 1
            operators[operator_id] += 1
            slow_left -= slow
            if ids:
                rotation.append((endpoint_id, ids))
            break
        if rotation:
            turns.append((operator_id, rotation))
    return taken


def claim_due(
    *,
    session: Session,
    slots: int,
    caps: Caps,
    in_flight_endpoints: Counter,
    in_flight_operators: Counter,
    slow_endpoints: Collection[uuid.UUID] = (),
    slow_slots: int | None = None,
) -> list[Claimed]:
    """Up to ``slots`` due deliveries of active endpoints, leased for one attempt each, shared fairly
    (``fair_choice``) with what this worker has in flight: a dead endpoint's backlog can't take every thread, nor
    keep other endpoints' or operators' deliveries waiting behind it."""
    if slots <= 0:
        return []
    full_endpoints = [key for key, count in in_flight_endpoints.items() if count >= caps.per_endpoint]
    full_operators = [key for key, count in in_flight_operators.items() if count >= caps.per_operator]
    candidates = session.execute(
        _CANDIDATES.where(Endpoint.id.not_in(full_endpoints), Endpoint.operator_id.not_in(full_operators)),
        {"per_endpoint": caps.per_endpoint},
    ).all()
    chosen = fair_choice(
        candidates,
        slots=slots,
        caps=caps,
        in_flight_endpoints=in_flight_endpoints,
        in_flight_operators=in_flight_operators,
        slow_endpoints=slow_endpoints,
        slow_slots=slow_slots,
    )
    if not chosen:
        return []
    rows = session.execute(
        _DUE.where(Delivery.id.in_(chosen)).order_by(Delivery.id).with_for_update(of=Delivery, skip_locked=True)
    ).all()
    if not rows:
        return []
    leases: dict[int, dt.datetime] = dict(
        session.execute(  # type: ignore[arg-type]  # next_attempt_at is just set: never NULL here
            update(Delivery)
            .where(Delivery.id.in_([row.id for row in rows]))
            # the lease is also this claim's token: a later claim (only once it ran out) sets a later one
            .values(next_attempt_at=func.clock_timestamp() + LEASE)
            .returning(Delivery.id, Delivery.next_attempt_at)
        ).all()
    )
    return [Claimed(*row, leases[row.id]) for row in rows]


@dataclass(frozen=True)
class Retries:
    base_s: float
    max_s: float
    window: dt.timedelta


@dataclass(frozen=True)
class Attempt:
    """What one attempt at a claimed delivery came to."""

    claimed: Claimed
    status_code: int | None
    error: str | None
    duration_ms: int


def next_state(
    attempt: Attempt, *, now: dt.datetime, retries: Retries
) -> tuple[str, dt.datetime | None, dt.datetime | None]:
    """(status, next_attempt_at, succeeded_at) of a delivery after this attempt: succeeded on a 2xx; else due again
    after the backoff, or failed when the retry window since the event's intake is over."""
    if attempt.status_code is not None and 200 <= attempt.status_code < 300:
        return "succeeded", None, now
    if now >= attempt.claimed.created_at + retries.window:
        return "failed", None, None
    backoff_s = backoff(attempt.claimed.attempts + 1, base_s=retries.base_s, max_s=retries.max_s)
    return "pending", now + backoff_s, None


def record_attempts(*, session: Session, attempts: list[Attempt], now: dt.datetime, retries: Retries) -> dict[int, str]:
    """Record finished attempts and move their deliveries (``next_state``), in two statements whatever their
    number; the new status by delivery id. Only a delivery still leased to this attempt moves: one deleted with its
    endpoint meanwhile, or whose lease ran out and went to another worker (which may have succeeded since), is left
    out and its attempt not recorded. One whose endpoint was deactivated mid-send (lease cleared) is recorded, and
    stays unscheduled unless this attempt ended it (succeeded, or failed after the retry window)."""
    if not attempts:
        return {}
    states = {attempt.claimed.id: next_state(attempt, now=now, retries=retries) for attempt in attempts}
    rows = values(
        column("id", BigInteger),
        column("leased_until", DateTime(timezone=True)),
        column("status", String),
        column("attempts", Integer),
        column("next_attempt_at", DateTime(timezone=True)),
        column("succeeded_at", DateTime(timezone=True)),
        name="outcome",
    ).data(
        [
            (
                attempt.claimed.id,
                attempt.claimed.leased_until,
                *states[attempt.claimed.id][:1],
                attempt.claimed.attempts + 1,
                *states[attempt.claimed.id][1:],
            )
            for attempt in attempts
        ]
    )
    next_attempt_at = cast(rows.c.next_attempt_at, DateTime(timezone=True))  # typed: NULLs alone would be text
    moved = {
        row.id: row
        for row in session.execute(
            update(Delivery)
            .where(
                Delivery.id == rows.c.id,
                Delivery.status == "pending",
                or_(Delivery.next_attempt_at == rows.c.leased_until, Delivery.next_attempt_at.is_(None)),
            )
            .values(
                status=rows.c.status,
                attempts=rows.c.attempts,
                # paused mid-send (NULL): still pending, it stays unscheduled
                next_attempt_at=case((Delivery.next_attempt_at.is_(None), None), else_=next_attempt_at),
                succeeded_at=cast(rows.c.succeeded_at, DateTime(timezone=True)),
            )
            .returning(Delivery.id, Delivery.status, Delivery.next_attempt_at)
        )
    }
    recorded = [attempt for attempt in attempts if attempt.claimed.id in moved]
    if recorded:
        session.execute(
            insert(DeliveryAttempt),
            [
                {
                    "delivery_id": attempt.claimed.id,
                    "endpoint_id": attempt.claimed.endpoint_id,
                    "attempt": attempt.claimed.attempts + 1,
                    "status_code": attempt.status_code,
                    "error": attempt.error,
                    "duration_ms": attempt.duration_ms,
                    "created_at": now,
                    "next_attempt_at": moved[attempt.claimed.id].next_attempt_at,
                }
                for attempt in recorded
            ],
        )
    return {delivery_id: row.status for delivery_id, row in moved.items()}


def record_attempt(
    *,
    session: Session,
    claimed: Claimed,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
    now: dt.datetime,
    retries: Retries,
) -> str | None:
    """``record_attempts`` for one attempt: the delivery's new status (None: deleted meanwhile)."""
    moved = record_attempts(
        session=session, attempts=[Attempt(claimed, status_code, error, duration_ms)], now=now, retries=retries
    )
    return moved.get(claimed.id)
