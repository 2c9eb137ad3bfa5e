from pathlib import Path
from typing import Annotated

from backoffice_common.config import POSITIVE, CommonSettings


class Settings(CommonSettings):
    service_name: str = "auth"
    database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5433/auth"

    # Signing key for access tokens (RS256). PEM text or a file; the kid goes in the header.
    jwt_private_key: str | None = None
    jwt_private_key_file: Path | None = None
    jwt_key_id: str = "dev-1"
    access_token_ttl_s: int = 8 * 3600

    # argon2id cost: OWASP's minimum profile (19 MiB, t=2, p=1) — tests lower it.
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19 * 1024
    argon2_parallelism: int = 1

    # Login brake per email: after this many failed logins within the window (which starts at the first of
    # them), that email gets 429 until the window is over, whatever address it comes from.
    login_max_failures: Annotated[int, POSITIVE] = 5
    login_failure_window_s: Annotated[int, POSITIVE] = 15 * 60

    def check(self) -> None:
        super().check()
        if self.app_env == "prod" and not (self.jwt_private_key or self.jwt_private_key_file):
            raise ValueError("JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE must be set in prod")

    def private_key_pem(self) -> str:
        if self.jwt_private_key:
            return self.jwt_private_key
        if self.jwt_private_key_file:
            return Path(self.jwt_private_key_file).read_text()
        raise RuntimeError("No JWT signing key configured (JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE).")
