"""pytest plugin for the services' own tests (registered through the ``pytest11`` entry point).

It needs a ``pg_admin_url`` fixture from the repository's root conftest (which
starts a throwaway PostgreSQL cluster). It offers: a migrated database per
service, a session-wide app bound to one outer transaction per test
(``join_transaction_mode="create_savepoint"``), signed test tokens, and the SQL statements a test ran.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
from alembic import command
from alembic.config import Config
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

TEST_KID = "test-key-1"
TEST_ISSUER = "backoffice-auth"


def create_migrated_database(admin_url: str, name: str, alembic_ini: Path) -> str:
    """Drop and recreate database ``name``, run the service's migrations, return its URL."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    config = Config(str(alembic_ini))
    config.set_main_option("script_location", str(alembic_ini.parent / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")
    return url


@dataclass
class SigningKey:
    kid: str
    private_pem: str
    public_pem: str


def generate_signing_key(kid: str = TEST_KID) -> SigningKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return SigningKey(kid, private_pem, public_pem)


def sign_access_token(
    key: SigningKey,
    *,
    sub=None,
    role="operator",
    operator_id=None,
    ttl=dt.timedelta(hours=1),
    audience="backoffice",
    issuer=TEST_ISSUER,
    headers=None,
    **claims,
) -> str:
    now = dt.datetime.now(dt.UTC)
    sub = str(sub or uuid.uuid4())
    payload = {
        "sub": sub,
        "role": role,
        "operator_id": str(operator_id or sub),
        "aud": audience,
        "iss": issuer,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
        "type": "access",
        **claims,
    }
    return jwt.encode(payload, key.private_pem, algorithm="RS256", headers={"kid": key.kid, **(headers or {})})


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return generate_signing_key()


@pytest.fixture
def make_token(signing_key):
    """``make_token(role=..., sub=..., operator_id=...)`` → a valid access token for the test key."""
    return lambda **kw: sign_access_token(signing_key, **kw)


@pytest.fixture
def db_session(app):
    """One outer transaction per test; the app's commits become savepoints, all rolled back."""
    database = app.extensions["database"]
    connection = database.engine.connect()
    transaction = connection.begin()
    original = database.session_factory
    database.bind_for_tests(connection)
    with app.app_context():
        yield database.session
    database.session_factory = original
    transaction.rollback()
    connection.close()


@pytest.fixture
def client(app, db_session):
    return app.test_client()


@pytest.fixture
def statements(app):
    """The SQL statements the app's engine runs during the test (the test transaction's savepoints left out)."""
    seen = []
    engine = app.extensions["database"].engine

    def count(conn, cursor, statement, *args):
        if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)
