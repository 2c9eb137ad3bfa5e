"""An SMTP server that accepts every message: dev keeps each as an .eml file a developer
can open; tests and benchmarks read them from memory."""

from __future__ import annotations

import email
import email.policy
import threading
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


class Collector:
    def __init__(self, folder: Path | None = None):
        self.folder = folder
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        if folder:
            folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - the name aiosmtpd calls
        raw = envelope.original_content or envelope.content
        if self.folder:
            (self.folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml").write_bytes(raw)
        with self._lock:
            self.messages.append(email.message_from_bytes(raw, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def snapshot(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.messages)


class SmtpSink:
    def __init__(self, port: int, host: str = "127.0.0.1", folder: Path | None = None):
        self.collector = Collector(folder)
        self.controller = Controller(self.collector, hostname=host, port=port)
        self.port = port

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        return self.collector.snapshot()


def serve(folder: Path, host: str = "127.0.0.1", port: int = 1025) -> None:
    sink = SmtpSink(port, host, folder).start()
    print(f"SMTP sink on {host}:{port}, saving to {folder}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        sink.stop()
