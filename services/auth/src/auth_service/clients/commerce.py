"""The commerce service, over /internal: whether an operator has purchases (its currency is fixed from then on)."""

from __future__ import annotations

import uuid

from backoffice_common.errors import ServiceUnavailable
from backoffice_common.internal import InternalClient

UNKNOWN = (
    "The commerce service could not tell whether the operator has purchases; nothing was changed. Try again shortly."
)


class CommerceClient:
    def __init__(self, http: InternalClient):
        self.http = http

    def has_purchases(self, operator_id: uuid.UUID) -> bool:
        """Whether commerce holds any purchase of the operator (503 when commerce is down or answers oddly)."""
        response = self.http.get(f"/internal/operators/{operator_id}/has-purchases")
        body = response.json() if response.status_code == 200 else None
        if not isinstance(body, dict) or not isinstance(body.get("hasPurchases"), bool):
            raise ServiceUnavailable(UNKNOWN)
        return body["hasPurchases"]
