"""auth's photographer logins, kept in step with the roster (design §4)."""

from __future__ import annotations

import uuid

from backoffice_common.errors import Conflict, ServiceUnavailable
from backoffice_common.internal import InternalClient

LOOKUP_BATCH = 20_000  # auth's limit for one POST /internal/participants/lookup


class AuthClient:
    def __init__(self, http: InternalClient, *, lookup_batch: int = LOOKUP_BATCH):
        self.http = http
        self.lookup_batch = lookup_batch

    def update_photographer(self, photographer_id: uuid.UUID, changes: dict) -> None:
        response = self.http.patch(f"/internal/photographers/{photographer_id}", json=changes)
        if response.status_code == 409:
            body = response.json() or {}
            raise Conflict(body.get("message", "Conflict."), errors=body.get("errors"))
        if response.status_code != 200:
            raise ServiceUnavailable("The auth service refused the change; nothing was changed.")

    def delete_photographer(self, photographer_id: uuid.UUID) -> None:
        if self.http.delete(f"/internal/photographers/{photographer_id}").status_code != 204:
            raise ServiceUnavailable("The auth service refused the deletion; nothing was deleted.")

    def registered_emails(self, emails: list[str]) -> set[str]:
        """Which emails have a participant account: one call for a whole invite list (up to auth's cap a call)."""
        registered: set[str] = set()
        for start in range(0, len(emails), self.lookup_batch):
            response = self.http.post(
                "/internal/participants/lookup", json={"emails": emails[start : start + self.lookup_batch]}
            )
            if response.status_code != 200:
                raise ServiceUnavailable("The auth service could not look up participants.")
            registered.update(response.json()["registered"])
        return registered

    def participant_email(self, participant_id: uuid.UUID) -> str | None:
        """The participant's own email, or None when auth has no such participant."""
        response = self.http.get(f"/internal/participants/{participant_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ServiceUnavailable("The auth service could not look up the participant.")
        return response.json()["email"]

    def operator_card(self, operator_id: uuid.UUID | str) -> dict:
        response = self.http.get(f"/internal/operators/{operator_id}")
        if response.status_code != 200:
            raise ServiceUnavailable(f"The auth service answered {response.status_code} for operator {operator_id}.")
        return response.json()
