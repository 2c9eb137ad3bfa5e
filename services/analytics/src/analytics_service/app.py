from backoffice_common.internal import InternalClient
from backoffice_common.service import create_service_app

from analytics_service.api import analytics
from analytics_service.clients.sources import StatsSource
from analytics_service.config import Settings


def create_app(settings: Settings | None = None):
    settings = settings or Settings()
    app, api = create_service_app(__name__, settings, title="Back office — analytics")

    def client(url: str, name: str) -> InternalClient:
        return InternalClient(url, name=name, secret=settings.internal_token_secret, caller="analytics",
                              connect_timeout=settings.internal_timeout_connect_s,
                              read_timeout=settings.internal_timeout_read_s)

    app.extensions["projects_stats"] = StatsSource(client(settings.projects_url, "projects"))
    app.extensions["commerce_stats"] = StatsSource(client(settings.commerce_url, "commerce"))
    api.register_blueprint(analytics.blp)
    return app
