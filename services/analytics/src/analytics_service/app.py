from backoffice_common.service import create_service_app

from analytics_service.config import Settings


def create_app(settings: Settings | None = None):
    settings = settings or Settings()
    app, _api = create_service_app(__name__, settings, title="Back office — analytics")
    # Routes arrive with their issue; until then the service starts, migrates and answers health checks.
    return app
