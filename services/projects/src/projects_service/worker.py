"""The projects outbox worker: ``python -m projects_service.worker`` (part of `make run` and compose).

Draining the outbox: at-least-once, with exponential backoff, safe with several workers. Rows are claimed with
``FOR UPDATE SKIP LOCKED`` and deleted in the same transaction that handled them, so a worker killed mid-batch
leaves its rows for the next one (handlers are idempotent: deleting twice is harmless).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable

from backoffice_common.internal import internal_client
from backoffice_common.worker import run_forever, worker_engine
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from projects_service.clients.auth import AuthClient
from projects_service.clients.commerce import CommerceClient
from projects_service.clients.smtp import SmtpSender
from projects_service.clients.storage import Storage
from projects_service.config import Settings
from projects_service.invites.mail import InviteMailer
from projects_service.models import OutboxMessage

log = logging.getLogger(__name__)

Handler = Callable[[dict], None]


def backoff(attempts: int, *, base_s: float, max_s: float) -> dt.timedelta:
    """Exponential with jitter: base·2^(n-1), capped, then scaled by 0.5–1 so workers don't retry in lockstep."""
    # The exponent is capped so a message that has failed for weeks can't overflow the float.
    delay = min(max_s, base_s * 2 ** min(max(0, attempts - 1), 30))
    return dt.timedelta(seconds=delay * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not a secret


def drain_once(
    *,
    session_factory: sessionmaker,
    handlers: dict[str, Handler],
    batch_size: int = 10,
    base_s: float = 1.0,
    max_s: float = 300.0,
) -> int:
    """Handle up to ``batch_size`` due messages; returns how many were claimed."""
    with session_factory() as session, session.begin():
        messages = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.next_attempt_at <= func.now())
            .order_by(OutboxMessage.id)
            .limit(batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        for message in messages:
            # Each message in its own savepoint: a failure while recording one message's
            # outcome can't undo the deletes of the messages already handled in this batch.
            with session.begin_nested():
                _handle(session, message, handlers, base_s=base_s, max_s=max_s)
    return len(messages)


def _handle(
    session: Session, message: OutboxMessage, handlers: dict[str, Handler], *, base_s: float, max_s: float
) -> None:
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


def handlers_for(settings: Settings) -> dict[str, Handler]:
    storage = Storage(settings)
    commerce = CommerceClient(internal_client(settings, "commerce", caller="projects-worker"))
    auth = AuthClient(internal_client(settings, "auth", caller="projects-worker"))
    return {
        "r2.delete_objects": lambda payload: storage.delete_objects(payload["keys"]),
        "commerce.project_deleted": lambda payload: commerce.project_deleted(payload["projectId"]),
        "email.invite": InviteMailer(
            auth=auth,
            sender=SmtpSender(settings.smtp_url),
            join_base_url=settings.join_base_url,
            mail_from=settings.mail_from,
        ),
    }


def main() -> None:
    settings = Settings()
    session_factory = sessionmaker(worker_engine(settings, "projects-worker"))
    handlers = handlers_for(settings)

    def drain(_stopping) -> bool:  # something was handled: more may be due, go again at once
        # (a round is at most 50 messages, each bounded by its timeouts: it is not interrupted)
        return (
            drain_once(
                session_factory=session_factory,
                handlers=handlers,
                batch_size=50,
                base_s=settings.outbox_backoff_base_s,
                max_s=settings.outbox_backoff_max_s,
            )
            > 0
        )

    run_forever("projects-worker", settings, drain, idle_s=settings.outbox_poll_s)


if __name__ == "__main__":
    main()
