from typing import Annotated

from backoffice_common.config import POSITIVE, CommonSettings


class Settings(CommonSettings):
    service_name: str = "projects"
    database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5433/projects"

    # Photo storage: Cloudflare R2 in production, an S3-compatible server in dev and tests.
    s3_endpoint_url: str = "http://127.0.0.1:5010"
    s3_bucket: str = "backoffice-photos"
    s3_region: str = "us-east-1"
    s3_create_bucket: bool | None = None  # default: create it outside prod
    aws_access_key_id: str = "dev"
    aws_secret_access_key: str = "dev-secret"  # noqa: S105 - the dev S3 stand-in's (moto) credentials
    upload_url_ttl_s: int = 900

    # Where participants open a project (public link, or an invite's link with its token).
    join_base_url: str = "http://localhost:3000/join"
    invite_ttl_days: int = 14
    # Invites an operator may queue per UTC day, all projects together: our sender address is not a spam relay.
    invite_daily_quota: Annotated[int, POSITIVE] = 5000
    smtp_url: str = "smtp://127.0.0.1:1025"
    mail_from: str = "Photo Back Office <no-reply@backoffice.local>"

    # Outbox worker: exponential backoff between attempts, capped.
    outbox_poll_s: float = 0.5
    outbox_backoff_base_s: float = 1.0
    outbox_backoff_max_s: float = 300.0

    @property
    def create_bucket(self) -> bool:
        return self.app_env != "prod" if self.s3_create_bucket is None else self.s3_create_bucket
