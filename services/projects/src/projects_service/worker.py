"""The projects outbox worker: ``python -m projects_service.worker`` (part of `make run` and compose)."""
from __future__ import annotations

import time

from backoffice_common.internal import InternalClient
from backoffice_common.worker import run_forever, worker_engine
from sqlalchemy.orm import sessionmaker

from projects_service.clients.auth import AuthClient
from projects_service.clients.commerce import CommerceClient
from projects_service.config import Settings
from projects_service.services.mailer import SmtpSender, render_invite
from projects_service.services.outbox import drain_once
from projects_service.services.photos import Storage


class InviteMailer:
    def __init__(self, settings: Settings, auth: AuthClient):
        self.settings = settings
        self.auth = auth
        self.sender = SmtpSender(settings.smtp_url)
        self._operators: dict[str, tuple[float, dict]] = {}

    def _operator(self, operator_id: str) -> dict:
        # One lookup per operator a minute, not one per email of a 500-invite batch.
        cached = self._operators.get(operator_id)
        if cached is None or cached[0] < time.monotonic():
            cached = (time.monotonic() + 60, self.auth.operator_card(operator_id))
            self._operators[operator_id] = cached
        return cached[1]

    def __call__(self, payload: dict) -> None:
        self.sender.send(render_invite(payload=payload, operator=self._operator(payload["operatorId"]),
                                       join_base_url=self.settings.join_base_url, sender=self.settings.mail_from))


def handlers_for(settings: Settings) -> dict:
    def client(url: str, name: str) -> InternalClient:
        return InternalClient(url, name=name, secret=settings.internal_token_secret, caller="projects-worker")

    storage = Storage(settings)
    commerce = CommerceClient(client(settings.commerce_url, "commerce"))
    return {
        "r2.delete_objects": lambda payload: storage.delete_objects(payload["keys"]),
        "commerce.project_deleted": lambda payload: commerce.project_deleted(payload["projectId"]),
        "email.invite": InviteMailer(settings, AuthClient(client(settings.auth_url, "auth"))),
    }


def main() -> None:
    settings = Settings()
    session_factory = sessionmaker(worker_engine(settings, "projects-worker"))
    handlers = handlers_for(settings)

    def drain(_stopping) -> bool:  # something was handled: more may be due, go again at once
        # (a round is at most 50 messages, each bounded by its timeouts: it is not interrupted)
        return drain_once(session_factory=session_factory, handlers=handlers, batch_size=50,
                          base_s=settings.outbox_backoff_base_s, max_s=settings.outbox_backoff_max_s) > 0

    run_forever("projects-worker", settings, drain, idle_s=settings.outbox_poll_s)


if __name__ == "__main__":
    main()
