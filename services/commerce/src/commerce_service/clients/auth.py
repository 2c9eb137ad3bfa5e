"""The auth service's operator card (``GET /internal/operators/:id``): the currency an operator charges in."""

from __future__ import annotations

import uuid

from backoffice_common.errors import ServiceUnavailable
from backoffice_common.internal import InternalClient

DEFAULT_CURRENCY = "EUR"  # the profile's own default (auth), for a card that predates the field


class AuthClient:
    def __init__(self, http: InternalClient):
        self.http = http

    def operator_currency(self, operator_id: uuid.UUID) -> str:
        """The operator's ISO 4217 currency, upper case (503 when auth is down or does not know the operator)."""
        response = self.http.get(f"/internal/operators/{operator_id}")
        if response.status_code != 200:
            raise ServiceUnavailable("The auth service could not tell the operator's currency; try again shortly.")
        return (response.json().get("currency") or DEFAULT_CURRENCY).upper()
