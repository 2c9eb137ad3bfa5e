"""Invite emails: rendered here, sent over SMTP by the outbox worker."""
from __future__ import annotations

import datetime as dt
import html
import smtplib
import ssl
import zoneinfo
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit


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
        f"This invitation expires on {expires_text}.\n")
    message.add_alternative(
        f"<p>Hello,</p><p>{html.escape(studio)} invites you to <strong>{html.escape(project)}</strong>. "
        f"Join to receive the photos you appear in:</p><p><a href=\"{html.escape(link)}\">Join "
        f"{html.escape(project)}</a></p><p>This invitation expires on {html.escape(expires_text)}.</p>",
        subtype="html")
    return message


class SmtpSender:
    """One SMTP connection reused across messages; reconnects after any failure.

    ``SMTP_URL``: ``smtp://[user:pass@]host:port`` (``?starttls``) or ``smtps://…``. Over TLS the server's
    certificate and host name are verified against the system's CAs (``SSL_CERT_FILE`` adds a private CA):
    smtplib's default context verifies nothing, so anyone on the path could read every invite link.
    """

    def __init__(self, url: str, timeout: float = 10.0):
        self.url = urlsplit(url)
        self.timeout = timeout
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        host = self.url.hostname
        if self.url.scheme == "smtps":
            connection = smtplib.SMTP_SSL(host, self.url.port or 465, timeout=self.timeout,
                                          context=ssl.create_default_context())
        else:
            connection = smtplib.SMTP(host, self.url.port or 25, timeout=self.timeout)
            if "starttls" in (self.url.query or ""):
                connection.starttls(context=ssl.create_default_context())
        if self.url.username:
            connection.login(unquote(self.url.username), unquote(self.url.password or ""))
        return connection

    def send(self, message: EmailMessage) -> None:
        try:
            if self._connection is None:
                self._connection = self._connect()
            self._connection.send_message(message)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # already broken; nothing more to do
                pass
            self._connection = None
