"""The projects outbox worker: ``python -m projects_service.worker`` (part of `make run` and compose).

It drains the outbox (backoffice_common.outbox: at-least-once, exponential backoff, safe with several workers) in two
loops, each in its own thread so neither waits on the other: webhook events relayed to the webhooks service, and the
rest — R2 deletions, commerce clean-up, invite emails (a bulk invite, or SMTP down, never delays a member.joined; the
webhooks service down never delays an email).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import sessionmaker

from backoffice_common import outbox, webhook_events
from backoffice_common.internal import internal_client
from backoffice_common.outbox import Handler
from backoffice_common.worker import Loop, run_loops, worker_engine
from projects_service.clients.auth import AuthClient
from projects_service.clients.commerce import CommerceClient
from projects_service.clients.smtp import SmtpSender
from projects_service.clients.storage import Storage
from projects_service.config import Settings
from projects_service.invites.mail import InviteMailer
from projects_service.models import OutboxMessage

log = logging.getLogger(__name__)


def drain_once(**kwargs) -> int:
    """Handle up to ``batch_size`` due messages of the projects outbox (common's ``drain_once``)."""
    return outbox.drain_once(model=OutboxMessage, **kwargs)


def handlers_for(settings: Settings) -> dict[str, Handler]:
    storage = Storage(settings)
    commerce = CommerceClient(internal_client(settings, "commerce", caller="projects-worker"))
    auth = AuthClient(internal_client(settings, "auth", caller="projects-worker"))
    webhooks = internal_client(settings, "webhooks", caller="projects-worker")
    return {
        "r2.delete_objects": lambda payload: storage.delete_objects(payload["keys"]),
        "commerce.project_deleted": lambda payload: commerce.project_deleted(payload["projectId"]),
        "email.invite": InviteMailer(
            auth=auth,
            sender=SmtpSender(settings.smtp_url),
            join_base_url=settings.join_base_url,
            mail_from=settings.mail_from,
        ),
        webhook_events.OUTBOX_KIND: lambda payload: webhook_events.publish(webhooks, payload),
    }


def loops_for(settings: Settings, session_factory, handlers: dict[str, Handler]) -> list[Loop]:
    """The outbox's two loops: webhook events, and every other kind."""
    webhook_kinds = [webhook_events.OUTBOX_KIND]

    def drainer(**which) -> Callable[[Callable[[], bool]], bool]:
        def drain(_stopping) -> bool:  # something was handled: more may be due, go again at once
            # (a round is at most 50 messages, each bounded by its timeouts: it is not interrupted)
            return (
                drain_once(
                    session_factory=session_factory,
                    handlers=handlers,
                    batch_size=50,
                    base_s=settings.outbox_backoff_base_s,
                    max_s=settings.outbox_backoff_max_s,
                    **which,
                )
                > 0
            )

        return drain

    return [
        Loop("outbox", drainer(excluding=webhook_kinds), settings.outbox_poll_s),
        Loop("webhook-events", drainer(kinds=webhook_kinds), settings.outbox_poll_s),
    ]


def main() -> None:
    settings = Settings()
    session_factory = sessionmaker(worker_engine(settings, "projects-worker"))
    run_loops("projects-worker", settings, loops_for(settings, session_factory, handlers_for(settings)))


if __name__ == "__main__":
    main()
