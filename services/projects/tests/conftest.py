import json
from pathlib import Path

import pytest

from backoffice_common.testing.plugin import create_migrated_database
from projects_service.app import create_app
from projects_service.config import Settings

SERVICE_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def app(pg_admin_url, signing_key):
    url = create_migrated_database(pg_admin_url, "unit_projects", SERVICE_DIR / "alembic.ini")
    return create_app(
        Settings(
            app_env="test", database_url=url, jwt_public_keys=json.dumps({signing_key.kid: signing_key.public_pem})
        )
    )
