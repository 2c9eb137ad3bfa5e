from __future__ import annotations

import uuid

from backoffice_common.internal import InternalClient


class CommerceClient:
    def __init__(self, http: InternalClient):
        self.http = http

    def project_deleted(self, project_id: uuid.UUID | str) -> None:
        """Commerce drops the project's pricing rules and discount links (idempotent)."""
        status = self.http.delete(f"/internal/projects/{project_id}").status_code
        if status not in (200, 204):
            raise RuntimeError(f"commerce answered {status} to the project deletion")
