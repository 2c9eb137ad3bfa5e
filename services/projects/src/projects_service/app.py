from backoffice_common.service import create_service_app

from projects_service.api import internal
from projects_service.config import Settings


def create_app(settings: Settings | None = None):
    settings = settings or Settings()
    app, api = create_service_app(__name__, settings, title="Back office — projects")
    for blueprint in (internal.blp,):
        api.register_blueprint(blueprint)
    return app
