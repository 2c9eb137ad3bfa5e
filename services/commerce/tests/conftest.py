import json
import uuid
from pathlib import Path

import pytest

from backoffice_common.testing.plugin import create_migrated_database
from commerce_service.app import create_app
from commerce_service.clients.projects import ProjectRef
from commerce_service.config import Settings

SERVICE_DIR = Path(__file__).resolve().parents[1]


class FakeProjects:
    """Stands in for the projects service's ``GET /internal/projects/:id`` (same interface as ProjectsClient)."""

    def __init__(self):
        self.projects: dict[uuid.UUID, ProjectRef] = {}
        self.calls = 0

    def add(self, operator_id: uuid.UUID, name: str = "Summer Gala") -> ProjectRef:
        project = ProjectRef(id=uuid.uuid4(), operator_id=operator_id, name=name, status="live")
        self.projects[project.id] = project
        return project

    def get_project(self, project_id: uuid.UUID) -> ProjectRef | None:
        self.calls += 1
        return self.projects.get(project_id)

    def forget(self, project_id: uuid.UUID) -> None:
        pass


@pytest.fixture(scope="session")
def database_url(pg_admin_url):
    return create_migrated_database(pg_admin_url, "unit_commerce", SERVICE_DIR / "alembic.ini")


@pytest.fixture(scope="session")
def app(database_url, signing_key):
    app = create_app(Settings(app_env="test", database_url=database_url, projects_url="http://127.0.0.1:9",
                              jwt_public_keys=json.dumps({signing_key.kid: signing_key.public_pem})))
    app.extensions["projects_client"] = FakeProjects()
    return app


@pytest.fixture
def projects(app) -> FakeProjects:
    fake = app.extensions["projects_client"]
    fake.projects.clear()
    return fake


@pytest.fixture
def operator_id() -> uuid.UUID:
    return uuid.uuid4()
