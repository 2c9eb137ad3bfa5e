"""Typed settings read from the environment, one place per service.

Every service subclasses :class:`CommonSettings`. Dev defaults are safe to run
locally; outside ``dev``/``test`` the settings refuse placeholder secrets so a
misconfigured deployment fails at boot rather than at the first request.

A setting is a class attribute with a type and a default; its value comes from
the keyword given to the constructor, else from the environment variable of its
name in capitals, else the default. Bounds ride on the type
(``Annotated[float, Range(min=300)]``, marshmallow's validators) and
cross-field rules in :meth:`check`. Any fault raises :class:`SettingsError`
naming every field at fault. This replaced pydantic-settings, which cost each
worker ~10 MB of its 100 MB budget for what is read once at boot
(docs/decisions.md, "Settings without pydantic").
"""

from __future__ import annotations

import json
import os
import types
import typing
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from marshmallow import ValidationError
from marshmallow.validate import Range
from sqlalchemy.engine import make_url

DEV_INTERNAL_SECRET = "dev-internal-token-secret-do-not-use-in-production"  # noqa: S105 - dev default, refused in prod
_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "password", "dev", DEV_INTERNAL_SECRET}
POSITIVE = Range(min=0, min_inclusive=False)
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """Settings a service must not boot with; the message names each field (and its variable) at fault."""


# What each plain kind accepts (a string from the environment, or a value given in code), and how it is refused.
_PLAIN = {
    int: (int | float | str, "Must be a whole number."),
    float: (int | float | str, "Must be a number."),
    str: (str, "Must be text."),
    Path: (str | Path, "Must be a path."),
}


def _parse(kind: Any, value: Any) -> Any:
    """``value`` as ``kind``; ValueError if it is not one."""
    if typing.get_origin(kind) is Literal:
        if value not in typing.get_args(kind):
            raise ValueError(f"Must be one of {', '.join(map(str, typing.get_args(kind)))}.")
        return value
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError("Must be true or false.")
    if kind not in _PLAIN:
        raise TypeError(f"settings cannot hold a {kind!r}")
    accepted, refusal = _PLAIN[kind]
    if (
        isinstance(value, bool)
        or not isinstance(value, accepted)
        or (kind is int and isinstance(value, float) and not value.is_integer())
    ):
        raise ValueError(refusal)
    try:
        return kind(value)
    except ValueError:
        raise ValueError(refusal) from None


class _Setting:
    """One declared setting: its type, whether it may be None, its bounds and its default."""

    def __init__(self, hint: Any, default: Any):
        self.validators: list = []
        if typing.get_origin(hint) is Annotated:
            hint, *extras = typing.get_args(hint)
            self.validators = [extra for extra in extras if callable(extra)]
        kinds = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        self.optional = type(None) in kinds
        (self.kind,) = [kind for kind in kinds if kind is not type(None)]
        self.default = default

    def value(self, given: Any) -> Any:
        if given is None or (self.optional and given == ""):  # an empty variable unsets an optional setting
            if self.optional:
                return None
            raise ValueError("Must be set.")
        value = _parse(self.kind, given)
        for validator in self.validators:
            try:
                validator(value)
            except ValidationError as refusal:
                raise ValueError(" ".join(map(str, refusal.messages))) from None
        return value


class EnvSettings:
    """Read-only settings declared as typed class attributes, read from keywords, then the environment."""

    _settings: ClassVar[dict[str, _Setting]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        hints = typing.get_type_hints(cls, include_extras=True)
        cls._settings = {
            name: _Setting(hint, getattr(cls, name))
            for name, hint in hints.items()
            if not name.startswith("_") and typing.get_origin(hint) is not ClassVar
        }

    def __init__(self, **given: Any):
        unknown = set(given) - set(self._settings)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting {', '.join(sorted(unknown))}")
        faults = []
        for name, setting in self._settings.items():
            raw = given[name] if name in given else os.environ.get(name.upper(), setting.default)
            try:
                object.__setattr__(self, name, setting.value(raw))
            except ValueError as fault:
                faults.append(f"{name} ({name.upper()}): {fault}")
        if faults:
            raise SettingsError("Invalid settings: " + "; ".join(faults))
        try:
            self.check()
        except ValueError as refusal:
            raise SettingsError(str(refusal)) from None

    @classmethod
    def variables(cls) -> set[str]:
        """The environment variables these settings read."""
        return {name.upper() for name in cls._settings}

    def check(self) -> None:
        """Rules across settings; raise ValueError naming the variable. Subclasses extend it (calling super)."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"settings are read-only ({name})")

    def __repr__(self) -> str:  # no values: some are secrets
        return f"<{type(self).__name__} {getattr(self, 'service_name', '')}>"


class CommonSettings(EnvSettings):
    app_env: Literal["dev", "test", "prod"] = "dev"
    service_name: str = "service"
    log_level: str = "INFO"

    database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5433/postgres"
    db_pool_size: int = 5
    db_connect_timeout_s: int = 3
    db_statement_timeout_ms: int = 10_000
    db_ping_after_idle_s: float = 30.0  # a pooled connection idle longer is pinged before use
    # Request threads per gunicorn worker (gunicorn_conf.py reads the same WEB_THREADS): what analytics' peer-call
    # pool is sized for.
    web_threads: int = 2
    # A background worker's Prometheus endpoint (/metrics on this port, all interfaces); none when unset. The web
    # services serve /metrics on their own port instead.
    metrics_port: int | None = None
    # Each worker keeps list answers while their rows are unchanged (backoffice_common.answers), up to this size.
    list_answers_max_bytes: int = 4_000_000
    # ... and sends one with no round trip while it hears of no change to it (backoffice_common.list_changes): off
    # where the LISTEN connection can't reach PostgreSQL itself (behind a transaction-mode pooler, scaling.md).
    list_answers_listen: bool = True
    # The LISTEN connection's own URL, to PostgreSQL itself, where DATABASE_URL goes through a transaction-mode pooler
    # (scaling.md); unset: DATABASE_URL.
    list_changes_database_url: str | None = None

    # Access tokens: verified with public keys only, chosen by the token's `kid`.
    jwt_issuer: str = "backoffice-auth"
    jwt_audience: str = "backoffice"
    jwt_public_keys_dir: Path | None = None  # folder of <kid>.pem
    jwt_public_keys: str | None = None  # or JSON {"kid": "PEM"}

    # Service-to-service tokens (design §9).
    internal_token_secret: str = DEV_INTERNAL_SECRET
    internal_timeout_connect_s: float = 1.0
    internal_timeout_read_s: float = 5.0

    auth_url: str = "http://127.0.0.1:5001"
    projects_url: str = "http://127.0.0.1:5002"
    commerce_url: str = "http://127.0.0.1:5003"
    analytics_url: str = "http://127.0.0.1:5004"
    webhooks_url: str = "http://127.0.0.1:5005"

    def check(self) -> None:
        super().check()
        if self.app_env == "prod":  # placeholders refused outside dev and test
            if self.internal_token_secret in _PLACEHOLDERS or len(self.internal_token_secret.encode()) < 32:
                raise ValueError("INTERNAL_TOKEN_SECRET must be a real secret of 32+ bytes in prod")
            if make_url(self.database_url).password in _PLACEHOLDERS | {"postgres"}:
                raise ValueError("DATABASE_URL must not use a placeholder password in prod")
            if not (self.jwt_public_keys_dir or self.jwt_public_keys):
                raise ValueError("JWT_PUBLIC_KEYS or JWT_PUBLIC_KEYS_DIR must be set in prod")

    @cached_property
    def public_keys(self) -> dict:
        """Loaded RSA public keys by kid (parsed once: PEM parsing per request would dominate verification)."""
        pems: dict[str, str] = {}
        if self.jwt_public_keys:
            pems.update(json.loads(self.jwt_public_keys))
        if self.jwt_public_keys_dir:
            for path in sorted(Path(self.jwt_public_keys_dir).glob("*.pem")):
                pems[path.stem] = path.read_text()
        return {kid: load_pem_public_key(pem.encode()) for kid, pem in pems.items()}
