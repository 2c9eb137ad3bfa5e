from backoffice_common.metrics import add_scrape_collector
from backoffice_common.service import create_service_app
from webhooks_service.config import Settings
from webhooks_service.deliveries import metrics as delivery_metrics
from webhooks_service.endpoints import views as endpoints
from webhooks_service.events import views as events


def create_app(settings: Settings | None = None):
    settings = settings or Settings()
    app, api = create_service_app(__name__, settings, title="Back office — webhooks")
    api.register_blueprint(endpoints.blp)
    api.register_blueprint(events.blp)
    add_scrape_collector(app, delivery_metrics.collect)
    return app
