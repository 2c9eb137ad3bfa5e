"""Sending mail over SMTP, verifying the server over TLS."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from backoffice_common.metrics import outcome_counter

# Sent by the outbox worker only (the web process queues invites): exposed on the worker's METRICS_PORT.
SMTP_SENDS = outcome_counter("smtp_sends_total", "Messages handed to the SMTP server, by outcome (ok, failed).")


class SmtpSender:
    """One SMTP connection reused across messages; reconnects after any failure.

    ``SMTP_URL``: ``smtp://[user:pass@]host:port`` (``?starttls``) or ``smtps://…``. Over TLS the server's
    certificate and host name are verified against the system's CAs (``SSL_CERT_FILE`` adds a private CA):
    smtplib's default context verifies nothing, so anyone on the path could read every invite link.
    """

    def __init__(self, url: str, timeout: float = 10.0):
        self.url = urlsplit(url)
        if not self.url.hostname:
            raise ValueError(f"SMTP_URL names no host: {url!r}")
        self.host: str = self.url.hostname
        self.timeout = timeout
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        host = self.host
        connection: smtplib.SMTP
        if self.url.scheme == "smtps":
            connection = smtplib.SMTP_SSL(
                host, self.url.port or 465, timeout=self.timeout, context=ssl.create_default_context()
            )
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
            SMTP_SENDS.labels("send", "failed").inc()
            self.close()
            raise
        SMTP_SENDS.labels("send", "ok").inc()

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except OSError:  # already broken (SMTPException is an OSError too); nothing more to do
                pass
            self._connection = None
