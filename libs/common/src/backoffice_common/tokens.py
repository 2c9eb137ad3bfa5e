"""Access-token verification (design §2) and role guards.

Tokens are RS256, verified against public keys picked by the ``kid`` header;
the algorithm, audience and issuer are pinned. Every failure is a 401 in the
common error shape — never flask-jwt-extended's default ``{"msg": ...}``.
"""
from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass

from flask import Flask
from flask_jwt_extended import JWTManager, get_jwt, verify_jwt_in_request
from jwt.exceptions import InvalidSignatureError

from .errors import Forbidden, error_response

OPERATOR = "operator"
PHOTOGRAPHER = "photographer"


REQUIRED_CLAIMS = frozenset({"sub", "role", "operator_id", "exp", "iat", "jti"})


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


@dataclass(frozen=True)
class Identity:
    account_id: uuid.UUID
    role: str
    operator_id: uuid.UUID


def init_jwt(app: Flask, settings) -> JWTManager:
    app.config.update(
        JWT_ALGORITHM="RS256",
        JWT_DECODE_ALGORITHMS=["RS256"],
        JWT_DECODE_AUDIENCE=settings.jwt_audience,
        JWT_DECODE_ISSUER=settings.jwt_issuer,
        JWT_TOKEN_LOCATION=["headers"],
        JWT_DECODE_LEEWAY=5,
    )
    keys = settings.public_keys
    jwt = JWTManager(app)

    @jwt.decode_key_loader
    def _key_for(header, _payload):
        key = keys.get(header.get("kid"))
        if key is None:
            raise InvalidSignatureError("Unknown signing key.")
        return key

    @jwt.token_verification_loader
    def _well_formed(_header, claims) -> bool:
        # A signature only says who issued the token; our own tokens always carry these claims
        # (design §2), so a token without them is refused here rather than failing later as a 500.
        # (flask-jwt-extended fills a missing jti with None, hence the value check.)
        return (all(claims.get(name) is not None for name in REQUIRED_CLAIMS)
                and _is_uuid(claims["sub"]) and _is_uuid(claims["operator_id"]))

    def _invalid(message="The access token is invalid."):
        return error_response(401, message, headers={"WWW-Authenticate": "Bearer"})

    jwt.unauthorized_loader(lambda _reason: _invalid("Missing bearer token."))
    jwt.invalid_token_loader(lambda _reason: _invalid())
    jwt.expired_token_loader(lambda _h, _p: _invalid("The access token has expired."))
    jwt.revoked_token_loader(lambda _h, _p: _invalid())
    jwt.needs_fresh_token_loader(lambda _h, _p: _invalid())
    jwt.token_verification_failed_loader(lambda _h, _p: _invalid())
    jwt.user_lookup_error_loader(lambda _h, _p: _invalid())
    return jwt


def current_identity() -> Identity:
    claims = get_jwt()
    return Identity(
        account_id=uuid.UUID(claims["sub"]),
        role=claims["role"],
        operator_id=uuid.UUID(claims["operator_id"]),
    )


def roles_required(*roles: str):
    """Valid token required (else 401); its role must be one of ``roles`` (else 403)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request()
            claims = get_jwt()
            if claims["role"] not in roles:
                raise Forbidden("This route is for the %s role." % " or ".join(roles))
            return view(*args, **kwargs)

        return wrapper

    return decorator
