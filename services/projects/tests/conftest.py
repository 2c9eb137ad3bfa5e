import importlib.util
import json
import sys
from pathlib import Path

import pytest

from backoffice_common.testing.plugin import create_migrated_database
from projects_service.app import create_app
from projects_service.config import Settings

SERVICE_DIR = Path(__file__).resolve().parents[1]


def _register_factories() -> None:
    """Tests import their row factories as ``projects_factories``: the suite runs in importlib mode, which puts no
    test folder on sys.path, and the name is the service's own so another service's factories can't shadow it."""
    spec = importlib.util.spec_from_file_location("projects_factories", Path(__file__).with_name("factories.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)


_register_factories()


@pytest.fixture(scope="session")
def app(pg_admin_url, signing_key):
    url = create_migrated_database(pg_admin_url, "unit_projects", SERVICE_DIR / "alembic.ini")
    return create_app(Settings(app_env="test", database_url=url,
                               jwt_public_keys=json.dumps({signing_key.kid: signing_key.public_pem})))
