"""Access-token verification: every fault a 401 in the common shape, and one token parse per request."""

import base64
import datetime as dt
import json
import time
import uuid

import jwt
import pytest
from flask.views import MethodView

from backoffice_common.api import Blueprint
from backoffice_common.service import create_service_app
from backoffice_common.testing.plugin import generate_signing_key, sign_access_token
from backoffice_common.tokens import OPERATOR, PHOTOGRAPHER, AccessTokens, current_identity, roles_required

KEY = generate_signing_key(kid="k1")
OTHER_KEY = generate_signing_key(kid="k2")  # also trusted: tokens are verified with the key their kid names


@pytest.fixture(scope="module")
def client(probe_settings):
    settings = probe_settings(KEY, OTHER_KEY)
    app, api = create_service_app(__name__, settings, title="probe")
    blp = Blueprint("probe", __name__, url_prefix="/probe")

    @blp.route("")
    class Probe(MethodView):
        decorators = [roles_required(OPERATOR)]

        def get(self):
            first, again = current_identity(), current_identity()
            assert first is again
            return {"account": str(first.account_id), "operator": str(first.operator_id), "role": first.role}

    @blp.route("/either")
    class Either(MethodView):
        decorators = [roles_required(OPERATOR, PHOTOGRAPHER)]

        def get(self):
            return {"role": current_identity().role}

    api.register_blueprint(blp)
    return app.test_client()


@pytest.fixture
def parses(monkeypatch):
    """How many times PyJWT parses a token."""
    calls = []
    original = jwt.api_jws.PyJWS._load
    monkeypatch.setattr(jwt.api_jws.PyJWS, "_load", lambda self, token: calls.append(1) or original(self, token))
    return calls


def _get(client, token=None, path="/probe", header=None):
    headers = {"Authorization": header if header is not None else f"Bearer {token}"} if (token or header) else {}
    return client.get(path, headers=headers)


def _b64(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _signed_without(claim, **claims):
    payload = jwt.decode(sign_access_token(KEY, **claims), options={"verify_signature": False})
    del payload[claim]
    return jwt.encode(payload, KEY.private_pem, algorithm="RS256", headers={"kid": KEY.kid})


def test_a_new_token_is_parsed_once_and_a_known_one_not_again(client, parses):
    account, operator = uuid.uuid4(), uuid.uuid4()
    for expected in (1, 2, 3):  # a new token each time: one parse (the view asks for the identity twice)
        response = _get(client, sign_access_token(KEY, sub=account, operator_id=operator))
        assert response.status_code == 200
        assert response.json == {"account": str(account), "operator": str(operator), "role": "operator"}
        assert len(parses) == expected
    token = sign_access_token(KEY, sub=account, operator_id=operator)
    for _ in range(3):
        assert _get(client, token).json["account"] == str(account)
    assert len(parses) == 4


def test_a_known_token_still_expires(client, monkeypatch):
    token = sign_access_token(KEY, ttl=dt.timedelta(seconds=60))
    assert _get(client, token).status_code == 200
    monkeypatch.setattr(time, "time", lambda real=time.time: real() + 62)  # expired, but within the 5 s leeway
    assert _get(client, token).status_code == 200
    monkeypatch.setattr(time, "time", lambda real=time.time: real() + 70)
    response = _get(client, token)
    assert response.status_code == 401 and response.json["message"] == "The access token has expired."
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_forged_variant_of_a_known_token_is_not_taken_for_it(client):
    token = sign_access_token(KEY)
    assert _get(client, token).status_code == 200
    head, body, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(body))
    forged = f"{head}.{_b64({**claims, 'sub': str(uuid.uuid4())})}.{signature}"
    assert _get(client, forged).status_code == 401
    assert _get(client, token + "x").status_code == 401


def test_the_memory_of_verified_tokens_is_bounded(client):
    model = client.application.extensions["access_tokens"]
    tokens = AccessTokens(model.keys, audience=model.audience, issuer=model.issuer, remember=8)
    issued = [sign_access_token(KEY) for _ in range(20)]
    for token in issued:
        tokens.identity(token)
    assert len(tokens._verified) == 8 and list(tokens._verified) == issued[-8:]


def test_the_kid_picks_the_key(client):
    assert _get(client, sign_access_token(OTHER_KEY)).status_code == 200


def test_leeway_of_five_seconds(client):
    assert _get(client, sign_access_token(KEY, ttl=dt.timedelta(seconds=-3))).status_code == 200
    response = _get(client, sign_access_token(KEY, ttl=dt.timedelta(seconds=-30)))
    assert response.status_code == 401 and response.json["message"] == "The access token has expired."


def _now():
    return int(dt.datetime.now(dt.UTC).timestamp())


BAD_TOKENS = {
    "garbage": lambda: "not-a-jwt",
    "three garbage parts": lambda: "a.b.c",
    "header not an object": lambda: _b64([1]) + "." + _b64({}) + ".sig",
    "signed by another key under our kid": lambda: sign_access_token(generate_signing_key(kid=KEY.kid)),
    "unknown kid": lambda: sign_access_token(generate_signing_key(kid="who-knows")),
    "no kid": lambda: jwt.encode({"sub": str(uuid.uuid4())}, KEY.private_pem, algorithm="RS256"),
    "alg none": lambda: (
        _b64({"alg": "none", "typ": "JWT", "kid": KEY.kid})
        + "."
        + _b64(
            {
                "sub": str(uuid.uuid4()),
                "operator_id": str(uuid.uuid4()),
                "role": "operator",
                "aud": "backoffice",
                "iss": "backoffice-auth",
                "iat": _now(),
                "exp": _now() + 600,
                "jti": "x",
            }
        )
        + "."
    ),
    "hs256 with the public key": lambda: jwt.encode(
        {"sub": str(uuid.uuid4()), "aud": "backoffice", "iss": "backoffice-auth", "exp": _now() + 600},
        KEY.public_pem.encode()[:64],
        algorithm="HS256",
        headers={"kid": KEY.kid},
    ),
    "other audience": lambda: sign_access_token(KEY, audience="internal"),
    "other issuer": lambda: sign_access_token(KEY, issuer="someone-else"),
    "not yet valid": lambda: sign_access_token(KEY, nbf=_now() + 600),
    "refresh token": lambda: sign_access_token(KEY, type="refresh"),
    "no exp": lambda: _signed_without("exp"),
    "no iat": lambda: _signed_without("iat"),
    "no jti": lambda: _signed_without("jti"),
    "no role": lambda: _signed_without("role"),
    "no sub": lambda: _signed_without("sub"),
    "no operator_id": lambda: _signed_without("operator_id"),
    "sub not a uuid": lambda: sign_access_token(KEY, sub="admin"),
    "operator_id not a uuid": lambda: sign_access_token(KEY, operator_id=42),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_tokens_are_401_in_the_common_shape(client, case):
    response = _get(client, BAD_TOKENS[case]())
    assert response.status_code == 401
    assert response.json == {
        "code": 401,
        "status": "Unauthorized",
        "message": "The access token is invalid.",
        "errors": {},
    }
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_tampered_payload_is_401(client):
    head, body, signature = sign_access_token(KEY).split(".")
    claims = json.loads(jwt.utils.base64url_decode(body))
    claims["operator_id"] = str(uuid.uuid4())
    assert _get(client, f"{head}.{_b64(claims)}.{signature}").status_code == 401


@pytest.mark.parametrize(
    "header, message",
    [
        (None, "Missing bearer token."),
        ("", "Missing bearer token."),
        ("Basic dXNlcjpwYXNz", "Missing bearer token."),
        ("bearer abc", "Missing bearer token."),  # the scheme is matched as flask-jwt-extended matched it
        ("Bearer", "The access token is invalid."),
        ("Bearer a b", "The access token is invalid."),
    ],
)
def test_missing_or_malformed_header_is_401(client, header, message):
    response = client.get("/probe", headers={} if header is None else {"Authorization": header})
    assert response.status_code == 401
    assert response.json["message"] == message and response.json["code"] == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_bearer_among_other_credentials(client):
    token = sign_access_token(KEY)
    assert _get(client, header=f"Basic dXNlcjpwYXNz, Bearer {token}").status_code == 200


def test_roles(client):
    assert _get(client, sign_access_token(KEY, role="photographer")).status_code == 403
    assert _get(client, sign_access_token(KEY, role="participant")).json["code"] == 403
    assert _get(client, sign_access_token(KEY, role="photographer"), path="/probe/either").json == {
        "role": "photographer"
    }
