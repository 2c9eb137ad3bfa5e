import datetime as dt

from auth_service import internal
from auth_service.accounts import views as accounts
from auth_service.accounts.login_brake import LoginBrake
from auth_service.accounts.passwords import Passwords
from auth_service.clients.commerce import CommerceClient
from auth_service.clients.projects import ProjectsClient
from auth_service.config import Settings
from auth_service.operators import views as operators

# Their routes are all internal: imported for what they put on internal.blp.
from auth_service.participants import views as participants  # noqa: F401
from auth_service.photographers import views as photographers  # noqa: F401
from backoffice_common.internal import internal_client
from backoffice_common.service import create_service_app, provide


def create_app(settings: Settings | None = None):
    settings = settings or Settings()
    app, api = create_service_app(__name__, settings, title="Back office — auth")
    app.config.update(
        JWT_PRIVATE_KEY=settings.private_key_pem(),
        JWT_ENCODE_ISSUER=settings.jwt_issuer,
        JWT_ENCODE_AUDIENCE=settings.jwt_audience,
        JWT_ACCESS_TOKEN_EXPIRES=settings.access_token_ttl_s,
    )
    provide(
        app,
        Passwords(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        ),
        LoginBrake(
            max_failures=settings.login_max_failures, window=dt.timedelta(seconds=settings.login_failure_window_s)
        ),
        ProjectsClient(internal_client(settings, "projects")),
        CommerceClient(internal_client(settings, "commerce")),
    )
    for blueprint in (accounts.blp, operators.blp, internal.blp):
        api.register_blueprint(blueprint)
    return app
