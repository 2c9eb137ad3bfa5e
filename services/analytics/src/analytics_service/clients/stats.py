"""A peer's ``POST /internal/stats`` and ``POST /internal/stats/timeseries``, the figures analytics composes its
answers from (design §7, §11)."""

from __future__ import annotations

import datetime as dt
import uuid

from backoffice_common.errors import ServiceUnavailable
from backoffice_common.internal import InternalClient


class StatsClient:
    def __init__(self, http: InternalClient):
        self.http = http

    def stats(self, operator_id: uuid.UUID, project_ids: list | None, photographer_ids: list | None) -> dict:
        return self._ask(
            "/internal/stats",
            {
                "operatorId": str(operator_id),
                "projectIds": _ids(project_ids),
                "photographerIds": _ids(photographer_ids),
            },
        )

    def timeseries(
        self,
        operator_id: uuid.UUID,
        project_ids: list | None,
        photographer_ids: list | None,
        *,
        timezone: str,
        interval: str,
        start: dt.date,
        end: dt.date,
    ) -> dict:
        """The peer's non-empty buckets of the days ``start`` to ``end`` (projects adds the scope's ids)."""
        return self._ask(
            "/internal/stats/timeseries",
            {
                "operatorId": str(operator_id),
                "projectIds": _ids(project_ids),
                "photographerIds": _ids(photographer_ids),
                "timezone": timezone,
                "interval": interval,
                "from": start.isoformat(),
                "to": end.isoformat(),
            },
        )

    def _ask(self, path: str, question: dict) -> dict:
        response = self.http.post(path, json=question)
        if response.status_code != 200:
            raise ServiceUnavailable(
                f"The {self.http.name} service could not answer for analytics (HTTP {response.status_code})."
            )
        return response.json()


def _ids(values: list | None) -> list[str] | None:
    return None if values is None else [str(value) for value in values]
