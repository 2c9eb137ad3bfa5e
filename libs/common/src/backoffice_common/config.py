"""Typed settings read from the environment, one place per service.

Every service subclasses :class:`CommonSettings`. Dev defaults are safe to run
locally; outside ``dev``/``test`` the settings refuse placeholder secrets so a
misconfigured deployment fails at boot rather than at the first request.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

DEV_INTERNAL_SECRET = "dev-internal-token-secret-do-not-use-in-production"  # noqa: S105 - dev default, refused in prod
_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "password", "dev", DEV_INTERNAL_SECRET}


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    app_env: Literal["dev", "test", "prod"] = "dev"
    service_name: str = "service"
    log_level: str = "INFO"

    database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5433/postgres"
    db_pool_size: int = 5
    db_connect_timeout_s: int = 3
    db_statement_timeout_ms: int = 10_000
    db_ping_after_idle_s: float = 30.0  # a pooled connection idle longer is pinged before use
    # Request threads per gunicorn worker (gunicorn_conf.py reads the same WEB_THREADS): what the reads pool and
    # analytics' peer-call pool are sized for.
    web_threads: int = 2
    # A background worker's Prometheus endpoint (/metrics on this port, all interfaces); none when unset. The web
    # services serve /metrics on their own port instead.
    metrics_port: int | None = None
    # Each worker keeps list answers while their rows are unchanged (backoffice_common.answers), up to this size.
    list_answers_max_bytes: int = 4_000_000

    # Access tokens: verified with public keys only, chosen by the token's `kid`.
    jwt_issuer: str = "backoffice-auth"
    jwt_audience: str = "backoffice"
    jwt_public_keys_dir: Path | None = None  # folder of <kid>.pem
    jwt_public_keys: str | None = None  # or JSON {"kid": "PEM"}

    # Service-to-service tokens (design §9).
    internal_token_secret: str = DEV_INTERNAL_SECRET
    internal_timeout_connect_s: float = 1.0
    internal_timeout_read_s: float = 5.0

    auth_url: str = "http://127.0.0.1:5001"
    projects_url: str = "http://127.0.0.1:5002"
    commerce_url: str = "http://127.0.0.1:5003"
    analytics_url: str = "http://127.0.0.1:5004"
    webhooks_url: str = "http://127.0.0.1:5005"

    @model_validator(mode="after")
    def _refuse_placeholders_outside_dev(self):
        if self.app_env == "prod":
            if self.internal_token_secret in _PLACEHOLDERS or len(self.internal_token_secret.encode()) < 32:
                raise ValueError("INTERNAL_TOKEN_SECRET must be a real secret of 32+ bytes in prod")
            if make_url(self.database_url).password in _PLACEHOLDERS | {"postgres"}:
                raise ValueError("DATABASE_URL must not use a placeholder password in prod")
            if not (self.jwt_public_keys_dir or self.jwt_public_keys):
                raise ValueError("JWT_PUBLIC_KEYS or JWT_PUBLIC_KEYS_DIR must be set in prod")
        return self

    @cached_property
    def public_keys(self) -> dict:
        """Loaded RSA public keys by kid (parsed once: PEM parsing per request would dominate verification)."""
        pems: dict[str, str] = {}
        if self.jwt_public_keys:
            pems.update(json.loads(self.jwt_public_keys))
        if self.jwt_public_keys_dir:
            for path in sorted(Path(self.jwt_public_keys_dir).glob("*.pem")):
                pems[path.stem] = path.read_text()
        return {kid: load_pem_public_key(pem.encode()) for kid, pem in pems.items()}
