"""Dev SMTP sink: accepts every message and keeps it as an .eml file a developer can open."""
from __future__ import annotations

import time
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller


class SaveToFolder:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        (self.folder / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def serve(folder: Path, host: str = "127.0.0.1", port: int = 1025) -> None:
    controller = Controller(SaveToFolder(folder), hostname=host, port=port)
    controller.start()
    print(f"SMTP sink on {host}:{port}, saving to {folder}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()
