from backoffice_common.internal import internal_client
from backoffice_common.metrics import add_scrape_collector
from backoffice_common.service import create_service_app, provide
from projects_service import outbox_metrics
from projects_service.clients.auth import AuthClient
from projects_service.clients.storage import Storage
from projects_service.config import Settings
from projects_service.invites import views as invites
from projects_service.members import views as members
from projects_service.photographers import views as photographers
from projects_service.photos import views as photos
from projects_service.projects import views as projects
from projects_service.stats import views as stats


def create_app(settings: Settings | None = None):
    settings = settings or Settings()
    app, api = create_service_app(__name__, settings, title="Back office — projects")
    provide(app, AuthClient(internal_client(settings, "auth")), Storage(settings))
    for blueprint in (
        projects.blp,
        invites.blp,
        photographers.blp,
        photos.blp,
        projects.internal_blp,
        photographers.internal_blp,
        members.blp,
        stats.blp,
    ):
        api.register_blueprint(blueprint)
    add_scrape_collector(app, outbox_metrics.collect)
    return app
