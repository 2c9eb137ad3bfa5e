"""A peer's ``POST /internal/stats``, the figures analytics composes its answer from (design §7)."""

from __future__ import annotations

import uuid

from backoffice_common.errors import ServiceUnavailable
from backoffice_common.internal import InternalClient


class StatsClient:
    def __init__(self, http: InternalClient):
        self.http = http

    def stats(self, operator_id: uuid.UUID, project_ids: list | None, photographer_ids: list | None) -> dict:
        response = self.http.post(
            "/internal/stats",
            json={
                "operatorId": str(operator_id),
                "projectIds": _ids(project_ids),
                "photographerIds": _ids(photographer_ids),
            },
        )
        if response.status_code != 200:
            raise ServiceUnavailable(
                f"The {self.http.name} service could not answer for analytics (HTTP {response.status_code})."
            )
        return response.json()


def _ids(values: list | None) -> list[str] | None:
    return None if values is None else [str(value) for value in values]
