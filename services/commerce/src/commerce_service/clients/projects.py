"""The projects service: who owns a project (``GET /internal/projects/:id``, cached briefly), what checkout
checks (``POST /internal/projects/:id/checkout-lookup``) and projects' current names
(``POST /internal/projects/lookup``)."""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from backoffice_common.errors import ServiceUnavailable
from backoffice_common.internal import InternalClient


@dataclass(frozen=True)
class ProjectRef:
    id: uuid.UUID
    operator_id: uuid.UUID
    name: str
    status: str


@dataclass(frozen=True)
class CheckoutFacts:
    """What the projects service says about a checkout: the project, membership, and the ready photos asked for."""

    project: ProjectRef
    member: bool
    photographers: dict[uuid.UUID, uuid.UUID]  # ready photo id → its photographer


class TtlCache:
    """A small thread-safe map whose entries expire after ``ttl_s`` (oldest dropped beyond ``max_entries``)."""

    def __init__(self, ttl_s: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.changes = 0  # how many live entries were dropped or replaced before their time (see fresh_until)

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
            live = self._entries.pop(key, None)
            if live is not None and live[0] > self.clock() and live[1] != value:
                self.changes += 1
            self._entries[key] = (self.clock() + self.ttl_s, value)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def discard(self, key) -> None:
        with self._lock:
            if self._entries.pop(key, None) is not None:
                self.changes += 1

    def fresh_until(self, keys) -> float:
        """Until when each of ``keys`` keeps its present value unless ``changes`` moves (the clock's time; -inf
        when one has none)."""
        with self._lock:
            expiries = [entry[0] if (entry := self._entries.get(key)) is not None else -math.inf for key in keys]
        return min(expiries, default=math.inf)


UNEXPECTED = "The projects service gave an unexpected answer; try again shortly."
LOOKUP_MAX = 1000  # ids per POST /internal/projects/lookup (its schema's limit)


def _project_ref(body: dict) -> ProjectRef:
    return ProjectRef(
        id=uuid.UUID(body["id"]),
        operator_id=uuid.UUID(body["operatorId"]),
        name=body.get("name", ""),
        status=body.get("status", ""),
    )


class ProjectsClient:
    def __init__(self, http: InternalClient, *, ttl_s: float = 30.0, max_entries: int = 10_000):
        self.http = http
        self.cache = TtlCache(ttl_s, max_entries)
        self.names = TtlCache(ttl_s, max_entries)  # project id → current name, or None once it is deleted

    def get_project(self, project_id: uuid.UUID) -> ProjectRef | None:
        """The project, or None when the projects service does not know it (503 when it is down)."""
        cached = self.cache.get(project_id, TtlCache._MISSING)
        if cached is not TtlCache._MISSING:
            return cached
        response = self.http.get(f"/internal/projects/{project_id}")
        if response.status_code == 404:
            project = None
        elif response.status_code == 200:
            project = _project_ref(response.json())
        else:
            raise ServiceUnavailable(UNEXPECTED)
        self.cache.set(project_id, project)
        return project

    def forget(self, project_id: uuid.UUID) -> None:
        self.cache.discard(project_id)
        self.names.discard(project_id)

    def checkout_facts(
        self, project_id: uuid.UUID, participant_id: uuid.UUID, photo_ids: list[uuid.UUID]
    ) -> CheckoutFacts | None:
        """Fresh (never cached) facts for a checkout, or None when there is no such project (503 when down)."""
        response = self.http.post(
            f"/internal/projects/{project_id}/checkout-lookup",
            json={"participantId": str(participant_id), "photoIds": [str(photo_id) for photo_id in photo_ids]},
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ServiceUnavailable(UNEXPECTED)
        body = response.json()
        return CheckoutFacts(
            project=_project_ref(body),
            member=body["member"],
            photographers={uuid.UUID(photo["id"]): uuid.UUID(photo["photographerId"]) for photo in body["photos"]},
        )

    def project_names(self, project_ids, *, cached: bool = False) -> dict[uuid.UUID, str]:
        """Current names of the projects that still exist: one call per LOOKUP_MAX ids, the most projects'
        lookup takes (503 when the service is down).

        ``cached`` answers from names at most ``ttl_s`` old where it has them and asks only for the rest:
        a page of purchases then costs no call at all most of the time (a call was half its cost).
        """
        wanted = {
            project_id if isinstance(project_id, uuid.UUID) else uuid.UUID(str(project_id))
            for project_id in project_ids
        }
        names: dict[uuid.UUID, str] = {}
        if cached:
            for project_id in list(wanted):
                name = self.names.get(project_id, TtlCache._MISSING)
                if name is not TtlCache._MISSING:
                    wanted.discard(project_id)
                    if name is not None:
                        names[project_id] = name
        asked = sorted(map(str, wanted))
        found: dict[uuid.UUID, str] = {}
        for start in range(0, len(asked), LOOKUP_MAX):
            response = self.http.post("/internal/projects/lookup", json={"ids": asked[start : start + LOOKUP_MAX]})
            if response.status_code != 200:
                raise ServiceUnavailable(UNEXPECTED)
            found.update((uuid.UUID(project["id"]), project["name"]) for project in response.json()["projects"])
        for project_id in wanted:
            self.names.set(project_id, found.get(project_id))
        return {**names, **found}
