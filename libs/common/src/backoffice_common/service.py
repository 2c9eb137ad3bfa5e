"""The common steps of every service's app factory, in order:
config → logging → request ids → database → metrics → tokens → Api → health → error handlers.
"""

from __future__ import annotations

import inspect
import weakref
from typing import TypeVar

from flask import Flask, current_app
from flask.sessions import NullSession, SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from .answers import KeptAnswers
from .api import Api
from .config import CommonSettings
from .db import Database
from .errors import register_error_handlers
from .health import health
from .jsonfast import OrjsonProvider
from .logs import configure_logging, init_request_id
from .metrics import init_metrics
from .tokens import init_jwt

T = TypeVar("T")
_DEPENDENCIES = "backoffice_dependencies"


def provide(app: Flask, *dependencies: object) -> None:
    """Register what the app's views need, built once by ``create_app`` (settings, peer clients, storage…), each
    under its own type."""
    registry = app.extensions.setdefault(_DEPENDENCIES, {})
    for dependency in dependencies:
        registry[type(dependency)] = dependency


def dependency(kind: type[T]) -> T:
    """The one way a view reaches an app dependency: ``dependency(AuthClient)``, ``dependency(Settings)``."""
    return current_app.extensions[_DEPENDENCIES][kind]


class _NoCookieSessions(SecureCookieSessionInterface):
    """The APIs authenticate with bearer tokens and keep no cookie session; Flask still made a fresh empty session
    object for every request. They share one instead: a NullSession, which refuses any write."""

    _shared = NullSession()

    def open_session(self, app, request):
        return self._shared


class ServiceFlask(Flask):
    """Flask, minus a per-request cost: ``ensure_sync`` asked ``inspect`` whether each view and hook is a coroutine
    function on every call (eight times a request). The answer is a property of the function, so it is kept — by a
    weak reference, as some callers pass a fresh function per request (``copy_current_request_context`` does)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # function → whether it is async (views' bound methods by their function); an entry goes with its function
        self._coroutine_functions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def ensure_sync(self, func):
        key = getattr(func, "__func__", func)
        try:
            coroutine = self._coroutine_functions.get(key)
        except TypeError:  # unhashable, or no weak reference to it (a builtin): asked each time, as Flask does
            return super().ensure_sync(func)
        if coroutine is None:
            coroutine = self._coroutine_functions[key] = inspect.iscoroutinefunction(func)
        return self.async_to_sync(func) if coroutine else func


def create_service_app(import_name: str, settings, *, title: str) -> tuple[Flask, Api]:
    app = ServiceFlask(import_name)
    app.json = OrjsonProvider(app)
    app.session_interface = _NoCookieSessions()
    # Behind the nginx gateway. (Flask's documented way to add WSGI middleware; mypy sees a method replaced.)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    app.config.update(
        API_TITLE=title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        PROPAGATE_EXCEPTIONS=False,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    provide(app, settings, KeptAnswers(settings.list_answers_max_bytes, listen=settings.list_answers_listen))
    # Under the base type as well: the shared library's own guards (internal_only) reach the settings that way.
    app.extensions[_DEPENDENCIES][CommonSettings] = settings
    configure_logging(settings.service_name, settings.log_level)
    init_request_id(app)
    database = Database(app, settings)
    init_metrics(app, {"sessions": database.engine, "reads": database.reads})
    init_jwt(app, settings)
    api = Api(
        app,
        spec_kwargs={
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}}
        },
    )
    app.register_blueprint(health)
    register_error_handlers(app)
    return app, api
