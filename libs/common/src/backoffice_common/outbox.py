"""The transactional outbox every producing service keeps (projects, commerce): work that must happen after a
commit — an email, a call to a peer, a webhook event — written in the same transaction as the change that needs
it, then drained by the service's worker with retries, never lost.

Draining is at-least-once, with exponential backoff, safe with several workers. Rows are claimed with
``FOR UPDATE SKIP LOCKED`` and deleted in the same transaction that handled them, so a worker killed mid-batch
leaves its rows for the next one (handlers are idempotent: handling a message twice is harmless).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, String, Text, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

log = logging.getLogger("outbox")

Handler = Callable[[dict], None]


class OutboxColumns:
    """The columns of a service's ``outbox`` table (a mixin for its model)."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSONB)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def backoff(attempts: int, *, base_s: float, max_s: float) -> dt.timedelta:
    """Exponential with jitter: base·2^(n-1), capped, then scaled by 0.5–1 so workers don't retry in lockstep."""
    # The exponent is capped so a message that has failed for weeks can't overflow the float.
    delay = min(max_s, base_s * 2 ** min(max(0, attempts - 1), 30))
    return dt.timedelta(seconds=delay * random.uniform(0.5, 1.0))  # noqa: S311 — jitter, not a secret


def drain_once(
    *,
    session_factory: sessionmaker,
    model: Any,  # a mapped class with the outbox columns (OutboxColumns)
    handlers: dict[str, Handler],
    batch_size: int = 10,
    base_s: float = 1.0,
    max_s: float = 300.0,
    kinds: Collection[str] | None = None,
    excluding: Collection[str] = (),
) -> int:
    """Handle up to ``batch_size`` due messages of the outbox ``model`` — only of ``kinds`` when given, none of
    ``excluding`` — returns how many were claimed. A worker drains kinds that must not wait on each other (an email
    behind a slow SMTP server, a webhook event) in loops of their own."""
    statement = select(model).where(model.next_attempt_at <= func.now())
    if kinds is not None:
        statement = statement.where(model.kind.in_(kinds))
    if excluding:
        statement = statement.where(model.kind.not_in(excluding))
    with session_factory() as session, session.begin():
        messages = session.scalars(
            statement.order_by(model.id).limit(batch_size).with_for_update(skip_locked=True)
        ).all()
        for message in messages:
            # Each message in its own savepoint: a failure while recording one message's
            # outcome can't undo the deletes of the messages already handled in this batch.
            with session.begin_nested():
                _handle(session, message, handlers, base_s=base_s, max_s=max_s)
    return len(messages)


def _handle(session: Session, message, handlers: dict[str, Handler], *, base_s: float, max_s: float) -> None:
    try:
        handlers[message.kind](message.payload)
    except Exception as exc:  # any failure: keep the message, try again later
        message.attempts += 1
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        # Database time, like the `next_attempt_at <= now()` that claims it: worker clocks may drift.
        message.next_attempt_at = func.now() + backoff(message.attempts, base_s=base_s, max_s=max_s)
        log.warning(
            "outbox message failed",
            extra={
                "kind": message.kind,
                "outbox_id": message.id,
                "attempts": message.attempts,
                "error": message.last_error,
            },
        )
        return
    session.delete(message)
