"""POST /v1/auth/register, /login, /register-photographer through the gateway."""

import uuid

import jwt
import pytest
from sqlalchemy import text


def _count(engine, sql, **params):
    with engine.connect() as connection:
        return connection.execute(text(sql), params).scalar()


def _email():
    return f"user-{uuid.uuid4().hex[:10]}@example.com"


class TestRegister:
    def test_returns_an_operator_token(self, gw, databases):
        email = _email()
        response = gw.post(
            "/v1/auth/register",
            json={"name": "Lumen", "email": email, "password": "password-1", "timezone": "Europe/Paris"},
        )
        assert response.status_code == 201
        assert list(response.json()) == ["token"]
        token = response.json()["token"]
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
        assert header["alg"] == "RS256" and header["kid"]
        assert claims["role"] == "operator"
        assert claims["operator_id"] == claims["sub"]
        assert claims["aud"] == "backoffice" and claims["iss"] == "backoffice-auth"
        assert claims["exp"] - claims["iat"] == 8 * 3600
        assert claims["jti"]
        me = gw.get("/v1/operators/me", token=token).json()
        assert me["id"] == claims["sub"] and me["timezone"] == "Europe/Paris" and me["email"] == email

    def test_timezone_null_means_utc(self, gw):
        response = gw.post(
            "/v1/auth/register", json={"name": "Lumen", "email": _email(), "password": "password-1", "timezone": None}
        )
        assert response.status_code == 201
        assert gw.get("/v1/operators/me", token=response.json()["token"]).json()["timezone"] == "UTC"

    def test_normalises_email_and_refuses_a_duplicate(self, gw, databases):
        email = _email()
        assert (
            gw.post("/v1/auth/register", json={"name": "A", "email": email, "password": "password-1"}).status_code
            == 201
        )
        again = gw.post(
            "/v1/auth/register", json={"name": "B", "email": f"  {email.upper()} ", "password": "password-2"}
        )
        assert again.status_code == 409
        assert again.json()["code"] == 409 and again.json()["status"] == "Conflict"
        assert again.json()["errors"] == {"json": {"email": ["An account with this email already exists."]}}
        assert _count(databases["auth"], "SELECT count(*) FROM accounts WHERE email = :e", e=email) == 1

    def test_email_taken_by_a_photographer_is_refused(self, gw, operator, photographer):
        response = gw.post(
            "/v1/auth/register", json={"name": "X", "email": photographer.email, "password": "password-1"}
        )
        assert response.status_code == 409

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"email": "a@example.com", "password": "password-1"}, "name"),
            ({"name": "", "email": "a@example.com", "password": "password-1"}, "name"),
            ({"name": "x" * 201, "email": "a@example.com", "password": "password-1"}, "name"),
            ({"name": "A", "email": "not-an-email", "password": "password-1"}, "email"),
            ({"name": "A", "password": "password-1"}, "email"),
            ({"name": "A", "email": "a@example.com", "password": "short"}, "password"),
            ({"name": "A", "email": "a@example.com", "password": "p" * 129}, "password"),
            ({"name": "A", "email": "a@example.com", "password": "password-1", "timezone": "Mars/Olympus"}, "timezone"),
            ({"name": "A", "email": "a@example.com", "password": "password-1", "role": "photographer"}, "role"),
        ],
    )
    def test_invalid_bodies_are_422_and_create_nothing(self, gw, databases, body, field):
        before = _count(databases["auth"], "SELECT count(*) FROM accounts")
        response = gw.post("/v1/auth/register", json=body)
        assert response.status_code == 422
        payload = response.json()
        assert payload["code"] == 422 and payload["status"] == "Unprocessable Entity" and payload["message"]
        assert field in payload["errors"]["json"]
        assert _count(databases["auth"], "SELECT count(*) FROM accounts") == before

    def test_malformed_json_is_400(self, gw):
        response = gw.post("/v1/auth/register", data="{nope", headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert response.json()["code"] == 400
        assert response.json()["message"] == "The request body is not valid JSON."


class TestLogin:
    def test_operator_and_photographer_log_in(self, gw, operator, photographer):
        for account, role in ((operator, "operator"), (photographer, "photographer")):
            response = gw.post("/v1/auth/login", json={"email": account.email.upper(), "password": account.password})
            assert response.status_code == 200
            claims = jwt.decode(response.json()["token"], options={"verify_signature": False})
            assert claims["role"] == role and claims["sub"] == account.id
            assert claims["operator_id"] == operator.id

    def test_one_401_message_whatever_was_wrong(self, gw, operator):
        wrong_password = gw.post("/v1/auth/login", json={"email": operator.email, "password": "wrong-password"})
        unknown_email = gw.post("/v1/auth/login", json={"email": _email(), "password": "wrong-password"})
        assert wrong_password.status_code == unknown_email.status_code == 401
        assert (
            wrong_password.json()
            == unknown_email.json()
            == {"code": 401, "status": "Unauthorized", "message": "Invalid email or password.", "errors": {}}
        )

    def test_missing_fields_are_422(self, gw):
        response = gw.post("/v1/auth/login", json={"email": "a@example.com"})
        assert response.status_code == 422
        assert response.json()["errors"] == {"json": {"password": ["Missing data for required field."]}}


class TestRegisterPhotographer:
    def test_creates_credential_and_roster_entry(self, gw, databases, operator):
        email = _email()
        response = gw.post(
            "/v1/auth/register-photographer",
            token=operator.token,
            json={"name": "Pat Lens", "email": f" {email.upper()}", "password": "password-1"},
        )
        assert response.status_code == 201
        body = response.json()
        assert set(body) == {"id", "name", "email"}
        assert body["name"] == "Pat Lens" and body["email"] == email
        uuid.UUID(body["id"])
        with databases["projects"].connect() as connection:
            row = connection.execute(
                text("SELECT operator_id, name, email FROM photographers WHERE id = :id"), {"id": body["id"]}
            ).one()
        assert (str(row.operator_id), row.name, row.email) == (operator.id, "Pat Lens", email)
        login = gw.post("/v1/auth/login", json={"email": email, "password": "password-1"})
        assert login.status_code == 200

    def test_duplicate_email_is_409(self, gw, operator, other_operator):
        response = gw.post(
            "/v1/auth/register-photographer",
            token=operator.token,
            json={"name": "P", "email": other_operator.email, "password": "password-1"},
        )
        assert response.status_code == 409

    def test_needs_an_operator(self, gw, photographer):
        body = {"name": "P", "email": _email(), "password": "password-1"}
        assert gw.post("/v1/auth/register-photographer", json=body).status_code == 401
        forbidden = gw.post("/v1/auth/register-photographer", token=photographer.token, json=body)
        assert forbidden.status_code == 403
        assert forbidden.json()["code"] == 403

    def test_invalid_body_is_422(self, gw, databases, operator):
        before = _count(databases["auth"], "SELECT count(*) FROM accounts")
        response = gw.post(
            "/v1/auth/register-photographer", token=operator.token, json={"name": "P", "email": "nope", "password": "x"}
        )
        assert response.status_code == 422
        assert set(response.json()["errors"]["json"]) == {"email", "password"}
        assert _count(databases["auth"], "SELECT count(*) FROM accounts") == before

    def test_projects_down_gives_503_and_leaves_no_account(self, gw, stack, databases, operator):
        email = _email()
        stack.stop_service("projects")
        try:
            response = gw.post(
                "/v1/auth/register-photographer",
                token=operator.token,
                json={"name": "P", "email": email, "password": "password-1"},
            )
        finally:
            stack.start_service("projects")
        assert response.status_code == 503
        assert response.json()["code"] == 503
        assert _count(databases["auth"], "SELECT count(*) FROM accounts WHERE email = :e", e=email) == 0
        assert gw.post("/v1/auth/login", json={"email": email, "password": "password-1"}).status_code == 401
        # and once projects is back, the same registration goes through
        again = gw.post(
            "/v1/auth/register-photographer",
            token=operator.token,
            json={"name": "P", "email": email, "password": "password-1"},
        )
        assert again.status_code == 201
