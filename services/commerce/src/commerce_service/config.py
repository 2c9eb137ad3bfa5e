import re
from typing import Annotated

from marshmallow.validate import Range

from backoffice_common.config import POSITIVE, CommonSettings

# Dev defaults, refused in prod (_PLACEHOLDERS).
DEV_STRIPE_SECRET_KEY = "sk_test_dev_placeholder_do_not_use_in_production"  # noqa: S105 - dev default
DEV_STRIPE_WEBHOOK_SECRET = "whsec_dev_placeholder_do_not_use_in_production"  # noqa: S105 - dev default
_WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9+/=_-]{24,}")
_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "dev", DEV_STRIPE_SECRET_KEY, DEV_STRIPE_WEBHOOK_SECRET}


class Settings(CommonSettings):
    service_name: str = "commerce"
    database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5433/commerce"

    # Who owns a project never changes, so the projects service's answer is cached briefly
    # (deletion is handled by a tombstone, see models.KnownProject).
    project_cache_ttl_s: float = 30.0
    project_cache_max_entries: int = 10_000

    # Stripe: the address differs between production (Stripe itself) and dev/test (localstripe), nothing else.
    stripe_secret_key: str = DEV_STRIPE_SECRET_KEY
    stripe_api_base: str = "https://api.stripe.com"
    stripe_webhook_secret: str = DEV_STRIPE_WEBHOOK_SECRET
    stripe_timeout_connect_s: float = 2.0
    stripe_timeout_read_s: float = 10.0

    # The commerce worker: a purchase still pending this long after checkout was abandoned (or its checkout
    # died before Stripe answered); it is settled with Stripe every sweep_interval_s.
    # At least 5 minutes: well past the longest a checkout can spend with Stripe (two tries of the
    # connect + read timeouts), so the sweeper never fails a purchase a checkout is still making.
    pending_purchase_ttl_s: Annotated[float, Range(min=300)] = 3600.0
    sweep_interval_s: Annotated[float, POSITIVE] = 60.0

    # A checkout's Idempotency-Key replays its purchase for this long, then is free again (Stripe keeps its
    # keys 24 hours: a retry is a matter of minutes, a key reused a day later is a new purchase).
    idempotency_key_ttl_s: Annotated[float, POSITIVE] = 24 * 3600.0

    # The outbox (webhook events for the webhooks service): how often the worker looks, and its retry backoff.
    outbox_poll_s: Annotated[float, POSITIVE] = 0.5
    outbox_backoff_base_s: Annotated[float, POSITIVE] = 1.0
    outbox_backoff_max_s: Annotated[float, POSITIVE] = 300.0

    def check(self) -> None:
        super().check()
        if self.app_env == "prod":
            if self.stripe_secret_key in _PLACEHOLDERS or not self.stripe_secret_key.startswith(("sk_", "rk_")):
                raise ValueError("STRIPE_SECRET_KEY must be a real Stripe secret key in prod")
            # Anyone who knows it can sign a payment_intent.succeeded and have a purchase marked paid.
            secret = self.stripe_webhook_secret
            if secret in _PLACEHOLDERS or not _WEBHOOK_SECRET.fullmatch(secret):
                raise ValueError(
                    "STRIPE_WEBHOOK_SECRET must be a real webhook signing secret in prod "
                    "(whsec_ and at least 24 random characters)"
                )
