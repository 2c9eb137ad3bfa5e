"""Access-token verification (design §2) and role guards.

Tokens are RS256, verified against public keys picked by the ``kid`` header;
the algorithm, audience and issuer are pinned. Every failure is a 401 in the
common error shape — never flask-jwt-extended's default ``{"msg": ...}``.

A request's token is verified once, by one PyJWT decode (flask-jwt-extended
parsed it four times), and its :class:`Identity` kept on ``flask.g`` for the
rest of the request. A client sends the same token for hours, so each worker
also remembers the tokens it verified (keyed by the whole token string, so
only that exact token matches): a repeat costs a dict look-up and the expiry
check instead of a parse and an RSA verification. flask-jwt-extended remains
for auth's token *issuing*.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import time
import uuid
from dataclasses import dataclass

import jwt
from flask import Flask, current_app, g, request
from flask_jwt_extended import JWTManager

from .errors import Forbidden, Unauthorized

OPERATOR = "operator"
PHOTOGRAPHER = "photographer"

ALGORITHMS = ("RS256",)
LEEWAY_S = 5
REQUIRED_CLAIMS = frozenset({"sub", "role", "operator_id", "exp", "iat", "jti"})
_MISSING = "Missing bearer token."
_INVALID = "The access token is invalid."
_EXPIRED = "The access token has expired."


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _well_formed(claims: dict) -> bool:
    # A signature only says who issued the token; our own tokens always carry these claims (design §2),
    # so a token without them is refused here rather than failing later as a 500.
    return (
        all(claims.get(name) is not None for name in REQUIRED_CLAIMS)
        and _is_uuid(claims["sub"])
        and _is_uuid(claims["operator_id"])
    )


@dataclass(frozen=True)
class Identity:
    account_id: uuid.UUID
    role: str
    operator_id: uuid.UUID


class AccessTokens:
    """Verifies access tokens with the public keys, loaded once, chosen by ``kid``."""

    def __init__(self, keys: dict, *, audience: str, issuer: str, leeway: int = LEEWAY_S, remember: int = 2048):
        self.keys = keys
        self.audience = audience
        self.issuer = issuer
        self.leeway = leeway
        # token → (Identity, exp) of tokens verified by this process; nothing a token was checked against can
        # change while the process lives (the keys are loaded once), except the clock: exp is checked each time.
        self._verified: dict[str, tuple[Identity, int]] = {}
        self._remember = remember

    def key_for(self, kid):
        key = self.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise jwt.InvalidSignatureError("Unknown signing key.")
        return key

    def claims(self, token: str) -> dict:
        """The verified claims of ``token``; :class:`Unauthorized` (401) for any fault."""
        try:
            claims = jwt.decode(
                token,
                self.key_for(_unverified_kid(token)),
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
            )
        except jwt.ExpiredSignatureError:
            raise _unauthorized(_EXPIRED) from None
        except jwt.InvalidTokenError:
            raise _unauthorized(_INVALID) from None
        # flask-jwt-extended's rule, kept: a refresh token is never an access token.
        if claims.get("type", "access") == "refresh" or not _well_formed(claims):
            raise _unauthorized(_INVALID)
        return claims

    def identity(self, token: str) -> Identity:
        known = self._verified.get(token)
        if known is not None:
            identity, expires = known
            if expires > time.time() - self.leeway:  # PyJWT's own test
                return identity
            self._verified.pop(token, None)
            raise _unauthorized(_EXPIRED)
        claims = self.claims(token)
        identity = Identity(
            account_id=uuid.UUID(claims["sub"]), role=claims["role"], operator_id=uuid.UUID(claims["operator_id"])
        )
        if len(self._verified) >= self._remember:
            try:  # forget the oldest (threads may race here: then someone else did)
                del self._verified[next(iter(self._verified))]
            except (KeyError, RuntimeError, StopIteration):
                pass
        self._verified[token] = (identity, int(claims["exp"]))
        return identity


def _unverified_kid(token: str):
    """The ``kid`` of the token's header, read to pick the key; PyJWT then checks the whole token itself."""
    try:
        segment = token.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError:  # binascii.Error, JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise jwt.DecodeError("Invalid header.") from None
    if not isinstance(header, dict):
        raise jwt.DecodeError("Invalid header.")
    return header.get("kid")


def _unauthorized(message: str) -> Unauthorized:
    return Unauthorized(message, headers={"WWW-Authenticate": "Bearer"})


_FIELDS = re.compile(r",\s*")


def bearer_token() -> str:
    """The request's ``Authorization: Bearer <token>``, read as flask-jwt-extended read it."""
    header = request.headers.get("Authorization", "").strip().strip(",")
    bearer = [field for field in _FIELDS.split(header) if field and field.split()[0] == "Bearer"]
    if len(bearer) != 1:
        raise _unauthorized(_MISSING)
    parts = bearer[0].split()
    if len(parts) != 2:
        raise _unauthorized(_INVALID)
    return parts[1]


def init_jwt(app: Flask, settings) -> JWTManager:
    tokens = AccessTokens(settings.public_keys, audience=settings.jwt_audience, issuer=settings.jwt_issuer)
    app.extensions["access_tokens"] = tokens
    # flask-jwt-extended only signs auth's tokens now: every service verifies with AccessTokens (roles_required),
    # so none of its decode settings or error loaders is ever reached.
    app.config.update(JWT_ALGORITHM=ALGORITHMS[0])
    return JWTManager(app)


def current_identity() -> Identity:
    """The caller, as verified by :func:`roles_required` for this request."""
    identity = g.get("identity")
    if identity is None:
        raise RuntimeError("current_identity() needs a view guarded by roles_required()")
    return identity


def roles_required(*roles: str):
    """Valid token required (else 401); its role must be one of ``roles`` (else 403)."""
    refusal = f"This route is for the {' or '.join(roles)} role."

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            identity = current_app.extensions["access_tokens"].identity(bearer_token())
            g.identity = identity
            if identity.role not in roles:
                raise Forbidden(refusal)
            return view(*args, **kwargs)

        wrapper.required_roles = roles  # for the gateway's API document: a protected operation, these roles
        return wrapper

    return decorator
