"""The services analytics composes its figures from (design §7): projects, then commerce."""
from __future__ import annotations

import uuid

from backoffice_common.errors import ServiceUnavailable
from backoffice_common.internal import InternalClient


def _ids(values: list[uuid.UUID] | None) -> list[str] | None:
    return None if values is None else [str(value) for value in values]


def _figures(http: InternalClient, body: dict) -> dict:
    response = http.post("/internal/stats", json=body)
    if response.status_code != 200:
        raise ServiceUnavailable(f"The {http.name} service could not answer for analytics "
                                 f"(HTTP {response.status_code}).")
    return response.json()


class ProjectsStats:
    def __init__(self, http: InternalClient):
        self.http = http

    def __call__(self, operator_id: uuid.UUID, project_ids: list[uuid.UUID] | None,
                 photographer_ids: list[uuid.UUID] | None) -> dict:
        """The scope (projects with names) and the people and photo counts over it."""
        return _figures(self.http, {"operatorId": str(operator_id), "projectIds": _ids(project_ids),
                                    "photographerIds": _ids(photographer_ids)})


class CommerceStats:
    def __init__(self, http: InternalClient):
        self.http = http

    def __call__(self, operator_id: uuid.UUID, project_ids: list[str],
                 photographer_ids: list[uuid.UUID] | None) -> dict:
        """Paid purchases, revenue and buyers over exactly these projects."""
        return _figures(self.http, {"operatorId": str(operator_id), "projectIds": project_ids,
                                    "photographerIds": _ids(photographer_ids)})
