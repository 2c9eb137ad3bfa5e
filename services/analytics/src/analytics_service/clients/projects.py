"""The projects service, over /internal."""

from __future__ import annotations

from analytics_service.clients.stats import StatsClient


class ProjectsClient(StatsClient):
    """``stats``: the scope (the operator's projects among the ids asked, with names) and the people and photo
    counts over it."""
