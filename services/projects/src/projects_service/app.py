from backoffice_common.internal import InternalClient
from backoffice_common.service import create_service_app

from projects_service.api import internal, invites, photographers, projects, stats
from projects_service.clients.auth import AuthClient
from projects_service.config import Settings
from projects_service.services.photos import Storage


def create_app(settings: Settings | None = None):
    settings = settings or Settings()
    app, api = create_service_app(__name__, settings, title="Back office — projects")
    app.extensions["auth_client"] = AuthClient(InternalClient(
        settings.auth_url, name="auth", secret=settings.internal_token_secret, caller="projects",
        connect_timeout=settings.internal_timeout_connect_s, read_timeout=settings.internal_timeout_read_s))
    app.extensions["storage"] = Storage(settings)
    for blueprint in (projects.blp, invites.blp, photographers.blp, internal.blp, stats.blp):
        api.register_blueprint(blueprint)
    return app
