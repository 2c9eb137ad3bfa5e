"""The auth service, over /internal: the operator's card (``GET /internal/operators/:id``)."""

from __future__ import annotations

import uuid

from backoffice_common.errors import ServiceUnavailable
from backoffice_common.internal import InternalClient


class AuthClient:
    def __init__(self, http: InternalClient):
        self.http = http

    def timezone(self, operator_id: uuid.UUID) -> str:
        """The operator's profile time zone (IANA; ``UTC`` unless the operator chose one): analytics over time
        buckets by the operator's calendar (design §11)."""
        response = self.http.get(f"/internal/operators/{operator_id}")
        if response.status_code != 200:
            raise ServiceUnavailable(f"The auth service could not answer for analytics (HTTP {response.status_code}).")
        return response.json()["timezone"]
