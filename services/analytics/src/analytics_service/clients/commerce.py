"""The commerce service, over /internal."""

from __future__ import annotations

from analytics_service.clients.stats import StatsClient


class CommerceClient(StatsClient):
    """``stats``: asked about exactly the projects of the scope, the paid purchases, revenue and buyers."""
