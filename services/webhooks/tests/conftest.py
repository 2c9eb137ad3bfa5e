import json
import socket
import threading
from pathlib import Path

import pytest

from backoffice_common.testing.plugin import create_migrated_database
from webhooks_service.app import create_app
from webhooks_service.config import Settings
from webhooks_service.endpoints import urls

SERVICE_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def app(pg_admin_url, signing_key):
    url = create_migrated_database(pg_admin_url, "unit_webhooks", SERVICE_DIR / "alembic.ini")
    return create_app(
        Settings(
            app_env="test", database_url=url, jwt_public_keys=json.dumps({signing_key.kid: signing_key.public_pem})
        )
    )


@pytest.fixture
def operator_headers(make_token):
    """``operator_headers(operator_id)`` → an operator's Authorization header."""
    return lambda operator_id: {"Authorization": f"Bearer {make_token(sub=operator_id, operator_id=operator_id)}"}


@pytest.fixture
def hanging_lookup(monkeypatch):
    """A resolver that never answers (getaddrinfo waits until the test ends), and lookups given up after 0.2 s."""
    release = threading.Event()

    def hanging(*args, **kwargs):
        release.wait(30)
        raise OSError("released")

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    monkeypatch.setattr(urls, "RESOLVE_TIMEOUT_S", 0.2)
    yield
    release.set()
