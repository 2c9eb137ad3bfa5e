"""The projects service's photographer roster, over /internal (design §4)."""

from __future__ import annotations

import uuid

from backoffice_common.errors import ServiceUnavailable
from backoffice_common.internal import InternalClient


class ProjectsClient:
    def __init__(self, http: InternalClient):
        self.http = http

    def put_photographer(self, account) -> None:
        response = self.http.put(
            f"/internal/photographers/{account.id}",
            json={"operatorId": str(account.operator_id), "name": account.name, "email": account.email},
        )
        if response.status_code not in (200, 201):
            raise ServiceUnavailable("The projects service refused the photographer; nothing was created.")

    def delete_photographer(self, photographer_id: uuid.UUID) -> None:
        self.http.delete(f"/internal/photographers/{photographer_id}")
