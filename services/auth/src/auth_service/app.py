import datetime as dt

from backoffice_common.internal import InternalClient
from backoffice_common.service import create_service_app

from auth_service.api import auth, internal, operators
from auth_service.clients.commerce import CommerceClient
from auth_service.clients.projects import ProjectsClient
from auth_service.config import Settings
from auth_service.services.login_brake import LoginBrake
from auth_service.services.passwords import Passwords


def create_app(settings: Settings | None = None):
    settings = settings or Settings()
    app, api = create_service_app(__name__, settings, title="Back office — auth")
    app.config.update(
        JWT_PRIVATE_KEY=settings.private_key_pem(),
        JWT_ENCODE_ISSUER=settings.jwt_issuer,
        JWT_ENCODE_AUDIENCE=settings.jwt_audience,
        JWT_ACCESS_TOKEN_EXPIRES=settings.access_token_ttl_s,
    )
    app.extensions["passwords"] = Passwords(time_cost=settings.argon2_time_cost,
                                            memory_kib=settings.argon2_memory_kib,
                                            parallelism=settings.argon2_parallelism)
    app.extensions["login_brake"] = LoginBrake(max_failures=settings.login_max_failures,
                                               window=dt.timedelta(seconds=settings.login_failure_window_s))
    app.extensions["projects_client"] = ProjectsClient(InternalClient(
        settings.projects_url, name="projects", secret=settings.internal_token_secret, caller="auth",
        connect_timeout=settings.internal_timeout_connect_s, read_timeout=settings.internal_timeout_read_s))
    app.extensions["commerce_client"] = CommerceClient(InternalClient(
        settings.commerce_url, name="commerce", secret=settings.internal_token_secret, caller="auth",
        connect_timeout=settings.internal_timeout_connect_s, read_timeout=settings.internal_timeout_read_s))
    for blueprint in (auth.blp, operators.blp, internal.blp):
        api.register_blueprint(blueprint)
    return app
