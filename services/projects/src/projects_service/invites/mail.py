"""Invite emails: rendered here, sent over SMTP by the outbox worker (its ``email.invite`` handler)."""

from __future__ import annotations

import datetime as dt
import html
import time
import zoneinfo
from email.message import EmailMessage

from projects_service.clients.auth import AuthClient
from projects_service.clients.smtp import SmtpSender


def render_invite(*, payload: dict, operator: dict, join_base_url: str, sender: str) -> EmailMessage:
    """Plain text and HTML: project, operator, join link with the invite token, expiry in the right time zone."""
    zone = zoneinfo.ZoneInfo(payload.get("projectTimezone") or operator.get("timezone") or "UTC")
    expires = dt.datetime.fromisoformat(payload["expiresAt"]).astimezone(zone)
    expires_text = f"{expires:%A %d %B %Y, %H:%M} ({zone.key})"
    link = f"{join_base_url.rstrip('/')}/{payload['projectId']}?invite={payload['token']}"
    project, studio = payload["projectName"], operator["name"]
    message = EmailMessage()
    message["Subject"] = f"{studio} invites you to {project}"
    message["From"] = sender
    message["To"] = payload["to"]
    message["X-Invite-Id"] = payload["inviteId"]
    message.set_content(
        f"Hello,\n\n{studio} invites you to {project}. Join to receive the photos you appear in:\n\n{link}\n\n"
        f"This invitation expires on {expires_text}.\n"
    )
    message.add_alternative(
        f"<p>Hello,</p><p>{html.escape(studio)} invites you to <strong>{html.escape(project)}</strong>. "
        f'Join to receive the photos you appear in:</p><p><a href="{html.escape(link)}">Join '
        f"{html.escape(project)}</a></p><p>This invitation expires on {html.escape(expires_text)}.</p>",
        subtype="html",
    )
    return message


class InviteMailer:
    """The outbox handler of ``email.invite``: render the invite for its operator, and send it."""

    def __init__(self, *, auth: AuthClient, sender: SmtpSender, join_base_url: str, mail_from: str):
        self.auth = auth
        self.sender = sender
        self.join_base_url = join_base_url
        self.mail_from = mail_from
        self._operators: dict[str, tuple[float, dict]] = {}

    def _operator(self, operator_id: str) -> dict:
        # One lookup per operator a minute, not one per email of a 500-invite batch.
        cached = self._operators.get(operator_id)
        if cached is None or cached[0] < time.monotonic():
            cached = (time.monotonic() + 60, self.auth.operator_card(operator_id))
            self._operators[operator_id] = cached
        return cached[1]

    def __call__(self, payload: dict) -> None:
        self.sender.send(
            render_invite(
                payload=payload,
                operator=self._operator(payload["operatorId"]),
                join_base_url=self.join_base_url,
                sender=self.mail_from,
            )
        )
