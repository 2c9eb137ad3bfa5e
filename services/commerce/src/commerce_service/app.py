from backoffice_common.internal import InternalClient
from backoffice_common.service import create_service_app

from commerce_service.api import discounts, internal, pricing, promo_codes, purchases, webhooks
from commerce_service.clients.auth import AuthClient
from commerce_service.clients.payments import Payments
from commerce_service.clients.projects import ProjectsClient
from commerce_service.config import Settings


def create_app(settings: Settings | None = None):
    settings = settings or Settings()
    app, api = create_service_app(__name__, settings, title="Back office — commerce")
    app.extensions["projects_client"] = ProjectsClient(
        InternalClient(settings.projects_url, name="projects", secret=settings.internal_token_secret,
                       caller="commerce", connect_timeout=settings.internal_timeout_connect_s,
                       read_timeout=settings.internal_timeout_read_s),
        ttl_s=settings.project_cache_ttl_s, max_entries=settings.project_cache_max_entries)
    app.extensions["auth_client"] = AuthClient(
        InternalClient(settings.auth_url, name="auth", secret=settings.internal_token_secret, caller="commerce",
                       connect_timeout=settings.internal_timeout_connect_s,
                       read_timeout=settings.internal_timeout_read_s))
    app.extensions["payments"] = Payments(
        secret_key=settings.stripe_secret_key, api_base=settings.stripe_api_base,
        webhook_secret=settings.stripe_webhook_secret, connect_timeout=settings.stripe_timeout_connect_s,
        read_timeout=settings.stripe_timeout_read_s)
    for blueprint in (pricing.blp, discounts.blp, discounts.links, promo_codes.blp, purchases.blp, webhooks.blp,
                      internal.blp):
        api.register_blueprint(blueprint)
    return app
