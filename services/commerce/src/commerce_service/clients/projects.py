"""The projects service's answer to "who owns this project" (``GET /internal/projects/:id``), cached briefly."""
from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from backoffice_common.errors import ServiceUnavailable
from backoffice_common.internal import InternalClient
from flask import current_app


@dataclass(frozen=True)
class ProjectRef:
    id: uuid.UUID
    operator_id: uuid.UUID
    name: str
    status: str


class TtlCache:
    """A small thread-safe map whose entries expire after ``ttl_s`` (oldest dropped beyond ``max_entries``)."""

    def __init__(self, ttl_s: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    _MISSING = object()

    def get(self, key, default=_MISSING):
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > self.clock():
                return entry[1]
            self._entries.pop(key, None)
        return default

    def set(self, key, value) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (self.clock() + self.ttl_s, value)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def discard(self, key) -> None:
        with self._lock:
            self._entries.pop(key, None)


class ProjectsClient:
    def __init__(self, http: InternalClient, *, ttl_s: float = 30.0, max_entries: int = 10_000):
        self.http = http
        self.cache = TtlCache(ttl_s, max_entries)

    def get_project(self, project_id: uuid.UUID) -> ProjectRef | None:
        """The project, or None when the projects service does not know it (503 when it is down)."""
        cached = self.cache.get(project_id, TtlCache._MISSING)
        if cached is not TtlCache._MISSING:
            return cached
        response = self.http.get(f"/internal/projects/{project_id}")
        if response.status_code == 404:
            project = None
        elif response.status_code == 200:
            body = response.json()
            project = ProjectRef(id=uuid.UUID(body["id"]), operator_id=uuid.UUID(body["operatorId"]),
                                 name=body.get("name", ""), status=body.get("status", ""))
        else:
            raise ServiceUnavailable("The projects service gave an unexpected answer; try again shortly.")
        self.cache.set(project_id, project)
        return project

    def forget(self, project_id: uuid.UUID) -> None:
        self.cache.discard(project_id)


def projects_client() -> ProjectsClient:
    return current_app.extensions["projects_client"]
