from analytics_service.analytics import views as analytics
from analytics_service.clients.at_once import AtOnce
from analytics_service.clients.auth import AuthClient
from analytics_service.clients.commerce import CommerceClient
from analytics_service.clients.projects import ProjectsClient
from analytics_service.config import Settings
from backoffice_common.internal import internal_client
from backoffice_common.service import create_service_app, provide


def create_app(settings: Settings | None = None):
    settings = settings or Settings()
    app, api = create_service_app(__name__, settings, title="Back office — analytics")
    provide(
        app,
        ProjectsClient(internal_client(settings, "projects")),
        CommerceClient(internal_client(settings, "commerce")),
        AuthClient(internal_client(settings, "auth")),
        # Each request thread asks one peer in the pool while it asks the other itself.
        AtOnce(threads=settings.web_threads),
    )
    api.register_blueprint(analytics.blp)
    return app
