import json
from pathlib import Path

import pytest

from auth_service.accounts.passwords import Passwords
from auth_service.app import create_app
from auth_service.config import Settings
from backoffice_common.service import dependency
from backoffice_common.testing.plugin import create_migrated_database

SERVICE_DIR = Path(__file__).resolve().parents[1]


def make_settings(database_url: str, signing_key, **overrides) -> Settings:
    return Settings(
        app_env="test",
        database_url=database_url,
        jwt_private_key=signing_key.private_pem,
        jwt_key_id=signing_key.kid,
        jwt_public_keys=json.dumps({signing_key.kid: signing_key.public_pem}),
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        projects_url="http://127.0.0.1:9",
        **overrides,
    )


@pytest.fixture(scope="session")
def app(pg_admin_url, signing_key):
    url = create_migrated_database(pg_admin_url, "unit_auth", SERVICE_DIR / "alembic.ini")
    return create_app(make_settings(url, signing_key))


@pytest.fixture
def settings_for(signing_key):
    """Settings for another app instance (e.g. pointed at a database that is down)."""
    return lambda database_url, **overrides: make_settings(database_url, signing_key, **overrides)


@pytest.fixture
def passwords(app):
    with app.app_context():
        return dependency(Passwords)
