"""What fuzzing the merged API document found (issue 13), kept as regression tests through the gateway."""

import json
import uuid

import pytest
from sqlalchemy import text

UNSTORABLE = {
    "code": 422,
    "status": "Unprocessable Entity",
    "message": "The request is invalid.",
    "errors": {"json": {"name": ["Must not contain NUL or unpaired surrogate characters."]}},
}


def _post_raw(gw, path, token, body: str):
    return gw.post(path, token=token, data=body.encode(), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("bad", ["\\u0000", "\\ud8b6"])  # JSON escapes: NUL, a lone surrogate
def test_text_postgresql_cannot_store_is_422_not_500(gw, databases, operator, bad):
    # schemathesis seed 134358089940940408976540122991520624128: POST /v1/auth/register-photographer answered 500
    email = f"fuzz-{uuid.uuid4().hex[:8]}@example.com"
    photographer = _post_raw(
        gw,
        "/v1/auth/register-photographer",
        operator.token,
        json.dumps({"email": email, "password": "long-password-1"})[:-1] + f', "name": "a{bad}"}}',
    )
    assert (photographer.status_code, photographer.json()) == (422, UNSTORABLE)
    project = _post_raw(gw, "/v1/projects", operator.token, f'{{"name": "x{bad}", "type": "public"}}')
    assert (project.status_code, project.json()) == (422, UNSTORABLE)
    with databases["auth"].connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM accounts WHERE email = :e"), {"e": email}).scalar() == 0
