"""The projects service, over /internal."""

from __future__ import annotations

import uuid

from analytics_service.clients.stats import StatsClient, _ids


class ProjectsClient(StatsClient):
    """``scope``: the ids of the projects the figures cover; ``stats``: those projects (with names) and the people
    and photo counts over them."""

    def scope(self, operator_id: uuid.UUID, project_ids: list | None) -> list[str]:
        question = {"operatorId": str(operator_id), "projectIds": _ids(project_ids)}
        return self._ask("/internal/stats/scope", question)["projectIds"]
