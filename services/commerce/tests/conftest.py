import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from backoffice_common.testing.plugin import create_migrated_database
from commerce_service.app import create_app
from commerce_service.clients.projects import CheckoutFacts, ProjectRef
from commerce_service.config import Settings
from devstack import free_port

SERVICE_DIR = Path(__file__).resolve().parents[1]


STRIPE_WEBHOOK_SECRET = "whsec_unit_test_secret"


class FakeProjects:
    """Stands in for the projects service's internal routes (same interface as ProjectsClient)."""

    def __init__(self):
        self.projects: dict[uuid.UUID, ProjectRef] = {}
        self.members: set[tuple[uuid.UUID, uuid.UUID]] = set()
        self.photos: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]] = {}  # ready photo → (project, photographer)
        self.calls = 0
        self.down = False

    def add(self, operator_id: uuid.UUID, name: str = "Summer Gala", status: str = "live") -> ProjectRef:
        project = ProjectRef(id=uuid.uuid4(), operator_id=operator_id, name=name, status=status)
        self.projects[project.id] = project
        return project

    def add_photos(self, project_id: uuid.UUID, photographer_id: uuid.UUID, count: int = 1) -> list[uuid.UUID]:
        ids = [uuid.uuid4() for _ in range(count)]
        self.photos.update({photo_id: (project_id, photographer_id) for photo_id in ids})
        return ids

    def rename(self, project_id: uuid.UUID, name: str) -> None:
        project = self.projects[project_id]
        self.projects[project_id] = ProjectRef(project.id, project.operator_id, name, project.status)

    def get_project(self, project_id: uuid.UUID) -> ProjectRef | None:
        self.calls += 1
        return self.projects.get(project_id)

    def forget(self, project_id: uuid.UUID) -> None:
        pass

    def checkout_facts(self, project_id, participant_id, photo_ids) -> CheckoutFacts | None:
        self.calls += 1
        project = self.projects.get(project_id)
        if project is None:
            return None
        return CheckoutFacts(project=project, member=(project_id, participant_id) in self.members,
                             photographers={photo_id: self.photos[photo_id][1] for photo_id in photo_ids
                                            if self.photos.get(photo_id, (None,))[0] == project_id})

    def project_names(self, project_ids) -> dict[uuid.UUID, str]:
        from backoffice_common.errors import ServiceUnavailable
        self.calls += 1
        if self.down:
            raise ServiceUnavailable("projects is down")
        return {project_id: self.projects[project_id].name for project_id in project_ids
                if project_id in self.projects}


class FakeAuth:
    """Stands in for auth's operator card (currency only)."""

    def __init__(self):
        self.currencies: dict[uuid.UUID, str] = {}

    def operator_currency(self, operator_id: uuid.UUID) -> str:
        return self.currencies.get(operator_id, "EUR")


@pytest.fixture(scope="session")
def stripe_api_base():
    """localstripe, the stateful Stripe fake, on a free loopback port for the whole session."""
    port = free_port()
    process = subprocess.Popen([str(Path(sys.executable).parent / "localstripe"), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{base}/v1/customers", auth=("sk_test_x", ""), timeout=1)
            break
        except requests.RequestException:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("localstripe did not start")
            time.sleep(0.1)
    yield base
    process.send_signal(signal.SIGTERM)
    process.wait(10)


@pytest.fixture(scope="session")
def database_url(pg_admin_url):
    return create_migrated_database(pg_admin_url, "unit_commerce", SERVICE_DIR / "alembic.ini")


@pytest.fixture(scope="session")
def app(database_url, signing_key, stripe_api_base):
    app = create_app(Settings(app_env="test", database_url=database_url, projects_url="http://127.0.0.1:9",
                              auth_url="http://127.0.0.1:9", stripe_api_base=stripe_api_base,
                              stripe_secret_key="sk_test_unit", stripe_webhook_secret=STRIPE_WEBHOOK_SECRET,
                              jwt_public_keys=json.dumps({signing_key.kid: signing_key.public_pem})))
    app.extensions["projects_client"] = FakeProjects()
    app.extensions["auth_client"] = FakeAuth()
    return app


@pytest.fixture
def projects(app) -> FakeProjects:
    fake = app.extensions["projects_client"]
    fake.projects.clear()
    fake.members.clear()
    fake.photos.clear()
    fake.down = False
    return fake


@pytest.fixture
def auth(app) -> FakeAuth:
    fake = app.extensions["auth_client"]
    fake.currencies.clear()
    return fake


@pytest.fixture
def operator_id() -> uuid.UUID:
    return uuid.uuid4()
