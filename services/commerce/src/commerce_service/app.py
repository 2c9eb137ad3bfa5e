from backoffice_common.internal import internal_client
from backoffice_common.metrics import add_scrape_collector
from backoffice_common.service import create_service_app, provide
from commerce_service import internal
from commerce_service.clients.auth import AuthClient
from commerce_service.clients.payments import Payments
from commerce_service.clients.projects import ProjectsClient
from commerce_service.config import Settings
from commerce_service.discounts import views as discounts
from commerce_service.pricing import views as pricing
from commerce_service.projects import views as projects
from commerce_service.promo_codes import views as promo_codes
from commerce_service.purchases import metrics as purchase_metrics
from commerce_service.purchases import views as purchases
from commerce_service.stats import views as stats

# Each domain's views add their internal routes to internal.blp, so they are imported before it is registered.
_INTERNAL_ROUTES = (pricing, purchases, stats, projects)


def create_app(settings: Settings | None = None):
    settings = settings or Settings()
    app, api = create_service_app(__name__, settings, title="Back office — commerce")
    provide(
        app,
        ProjectsClient(
            internal_client(settings, "projects"),
            ttl_s=settings.project_cache_ttl_s,
            max_entries=settings.project_cache_max_entries,
        ),
        AuthClient(internal_client(settings, "auth")),
        Payments.from_settings(settings),
    )
    for blueprint in (
        pricing.blp,
        discounts.blp,
        discounts.links,
        promo_codes.blp,
        purchases.blp,
        purchases.webhooks,
        internal.blp,
    ):
        api.register_blueprint(blueprint)
    add_scrape_collector(app, purchase_metrics.collect)
    return app
