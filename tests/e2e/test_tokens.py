"""Every failure of a bearer token is a 401 in the common error shape (design §2, §3)."""

import datetime as dt
import json
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from backoffice_common.testing.plugin import generate_signing_key, sign_access_token


@pytest.fixture(scope="module")
def real_key(stack):
    private_pem = stack.private_key.read_text()
    public_pem = (stack.public_keys / f"{stack.private_key.stem}.pem").read_text()
    from backoffice_common.testing.plugin import SigningKey

    return SigningKey(stack.private_key.stem, private_pem, public_pem)


def _b64(data: dict) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _bad_tokens(real_key, operator_id):
    claims = {"sub": operator_id, "operator_id": operator_id, "role": "operator"}
    stranger = generate_signing_key(kid=real_key.kid)  # same kid, different key
    now = int(dt.datetime.now(dt.UTC).timestamp())
    none_token = (
        _b64({"alg": "none", "typ": "JWT", "kid": real_key.kid})
        + "."
        + _b64(
            {**claims, "aud": "backoffice", "iss": "backoffice-auth", "iat": now, "exp": now + 600, "type": "access"}
        )
        + "."
    )
    valid = sign_access_token(real_key, **claims)
    head, body, signature = valid.split(".")
    tampered_claims = json.loads(jwt.utils.base64url_decode(body))
    tampered_claims["role"] = "operator"
    tampered_claims["operator_id"] = str(uuid.uuid4())
    hs256 = jwt.encode(
        {**claims, "aud": "backoffice", "iss": "backoffice-auth", "exp": now + 600},
        real_key.public_pem.encode()[:64],
        algorithm="HS256",
        headers={"kid": real_key.kid},
    )
    return {
        "garbage": "not-a-jwt",
        "signed by another key": sign_access_token(stranger, **claims),
        "unknown kid": sign_access_token(generate_signing_key(kid="who-knows"), **claims),
        "alg none": none_token,
        "hs256 with the public key": hs256,
        "expired": sign_access_token(real_key, ttl=dt.timedelta(seconds=-60), **claims),
        "other audience": sign_access_token(real_key, audience="internal", **claims),
        "other issuer": sign_access_token(real_key, issuer="someone-else", **claims),
        "tampered payload": f"{head}.{_b64(tampered_claims)}.{signature}",
        "no exp": _signed_without(real_key, "exp", **claims),
        "no iat": _signed_without(real_key, "iat", **claims),
        "no jti": _signed_without(real_key, "jti", **claims),
        "no role": _signed_without(real_key, "role", **claims),
        "sub not a uuid": sign_access_token(real_key, **{**claims, "sub": "admin"}),
        "operator_id not a uuid": sign_access_token(real_key, **{**claims, "operator_id": 42}),
    }


def _signed_without(key, claim, **claims):
    """A correctly signed token that lacks one claim our tokens always carry."""
    payload = jwt.decode(sign_access_token(key, **claims), options={"verify_signature": False})
    del payload[claim]
    return jwt.encode(payload, key.private_pem, algorithm="RS256", headers={"kid": key.kid})


def test_valid_token_signed_with_the_real_key_works(gw, real_key, operator):
    token = sign_access_token(real_key, sub=operator.id, operator_id=operator.id, role="operator")
    assert gw.get("/v1/operators/me", token=token).status_code == 200


@pytest.mark.parametrize(
    "case",
    [
        "garbage",
        "signed by another key",
        "unknown kid",
        "alg none",
        "hs256 with the public key",
        "expired",
        "other audience",
        "other issuer",
        "tampered payload",
        "no exp",
        "no iat",
        "no jti",
        "no role",
        "sub not a uuid",
        "operator_id not a uuid",
    ],
)
def test_bad_tokens_are_401(gw, real_key, operator, case):
    token = _bad_tokens(real_key, operator.id)[case]
    response = gw.get("/v1/operators/me", token=token)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"code", "status", "message", "errors"} and "msg" not in body
    assert body["code"] == 401 and body["status"] == "Unauthorized"


def test_missing_token_and_wrong_scheme_are_401(gw):
    assert gw.get("/v1/operators/me").status_code == 401
    response = gw.get("/v1/operators/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401 and response.json()["code"] == 401


def test_roles_are_enforced_both_ways(gw, operator, photographer):
    # a photographer on an operator route, and an operator on a photographer-only need
    assert gw.get("/v1/operators/me", token=photographer.token).status_code == 403
    body = {"name": "P", "email": f"x-{uuid.uuid4().hex[:8]}@example.com", "password": "password-1"}
    assert gw.post("/v1/auth/register-photographer", token=photographer.token, json=body).status_code == 403


def test_participant_tokens_cannot_use_the_back_office(gw, real_key):
    token = sign_access_token(real_key, role="participant")
    assert gw.get("/v1/operators/me", token=token).status_code == 403


def test_service_tokens_are_not_access_tokens(gw, stack):
    from backoffice_common.internal import make_service_token

    token = make_service_token("dev-internal-token-secret-do-not-use-in-production", "auth")
    assert gw.get("/v1/operators/me", token=token).status_code == 401


def test_rsa_keys_are_2048_bits(real_key):
    key = serialization.load_pem_private_key(real_key.private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
