"""Service-to-service calls (design §9): HS256 service tokens with ``aud=internal``,
a guard for ``/internal/*`` views, and a pooled HTTP client that never hangs.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid

import jwt
import requests
from flask import g, has_request_context, request
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .config import CommonSettings
from .errors import ServiceUnavailable, Unauthorized

INTERNAL_AUDIENCE = "internal"
SERVICE_TOKEN_TTL_S = 300  # design §9: exp within 5 minutes

log = logging.getLogger(__name__)


def best_effort(undo, what: str) -> None:
    """Run a compensating call (undoing one side of a two-service change); log, never raise, if it fails.

    The caller re-raises the original failure, which is what the client should hear about.
    """
    try:
        undo()
    except Exception:
        log.exception("compensation failed", extra={"compensation": what})


def make_service_token(secret: str, issuer: str, ttl_s: int = SERVICE_TOKEN_TTL_S) -> str:
    now = int(time.time())
    claims = {"iss": issuer, "aud": INTERNAL_AUDIENCE, "iat": now, "exp": now + ttl_s, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_service_token(token: str, secret: str) -> dict:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=INTERNAL_AUDIENCE,
            options={"require": ["exp", "iat", "iss", "aud"]},
            leeway=5,
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized("A valid service token is required.") from exc
    if claims["exp"] - claims["iat"] > SERVICE_TOKEN_TTL_S:
        raise Unauthorized("Service tokens must expire within 5 minutes.")
    return claims


def internal_only(view):
    """Guard for ``/internal/*`` views: a service token, nothing else."""
    from .service import dependency  # (not at the top: service imports db, which imports this module)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("A valid service token is required.")
        g.service_caller = verify_service_token(token, dependency(CommonSettings).internal_token_secret)["iss"]
        return view(*args, **kwargs)

    return wrapper


class UpstreamResponse:
    def __init__(self, response: requests.Response):
        self.status_code = response.status_code
        self.response = response

    def json(self):
        return self.response.json() if self.response.content else None


def internal_client(settings, peer: str, *, caller: str | None = None) -> InternalClient:
    """The one way a service (or its worker) makes its client to a peer: the peer's ``<PEER>_URL``, the shared
    service-token secret and the timeouts, all from the caller's settings."""
    return InternalClient(
        getattr(settings, f"{peer}_url"),
        name=peer,
        secret=settings.internal_token_secret,
        caller=caller or settings.service_name,
        connect_timeout=settings.internal_timeout_connect_s,
        read_timeout=settings.internal_timeout_read_s,
    )


class InternalClient:
    """Pooled session to one peer service.

    Connect errors are retried for every method (nothing reached the peer);
    read errors and 502–504 only for idempotent methods. Timeouts, refused
    connections and 5xx become :class:`ServiceUnavailable` (503); 4xx answers
    are returned for the caller to interpret.
    """

    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        secret: str,
        caller: str,
        connect_timeout: float = 1.0,
        read_timeout: float = 5.0,
        retries: int = 2,
    ):
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.secret = secret
        self.caller = caller
        self.timeout = (connect_timeout, read_timeout)
        self._token = ""
        self._token_exp = 0.0
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=0.1,
            status_forcelist=(502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}),
            raise_on_status=False,
        )
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def _service_token(self) -> str:
        # Minting costs a signature; reuse one token for most of its life.
        now = time.time()
        if now > self._token_exp - 60:
            self._token = make_service_token(self.secret, self.caller)
            self._token_exp = now + SERVICE_TOKEN_TTL_S
        return self._token

    def request(self, method: str, path: str, **kwargs) -> UpstreamResponse:
        headers = {"Authorization": f"Bearer {self._service_token()}"}
        if has_request_context() and "request_id" in g:
            headers["X-Request-ID"] = g.request_id
        try:
            response = self.session.request(
                method, self.base_url + path, headers=headers, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise ServiceUnavailable(f"The {self.name} service is unavailable; try again shortly.") from exc
        if response.status_code >= 500:
            raise ServiceUnavailable(f"The {self.name} service is unavailable; try again shortly.")
        return UpstreamResponse(response)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)
