import json
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from sqlalchemy import create_engine, delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from auth_service import models as auth_models
from auth_service.app import create_app as create_auth_app
from auth_service.config import Settings as AuthSettings
from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.service import dependency
from backoffice_common.testing.plugin import create_migrated_database
from commerce_service.app import create_app
from commerce_service.clients.projects import ProjectRef, ProjectsClient
from commerce_service.config import Settings
from devstack import free_port
from devstack.faults import TcpProxy
from projects_service import models as projects_models
from projects_service.app import create_app as create_projects_app
from projects_service.config import Settings as ProjectsSettings
from services.commerce.tests import factories as factory_module

SERVICE_DIR = Path(__file__).resolve().parents[1]
PROJECTS_DIR = SERVICE_DIR.parent / "projects"
AUTH_DIR = SERVICE_DIR.parent / "auth"


STRIPE_WEBHOOK_SECRET = "whsec_unit_test_secret"
INTERNAL_TOKEN_SECRET = DEV_INTERNAL_SECRET  # shared by the three services (the tests sign service tokens with it)


def _serve(port: int = 0):
    """An HTTP server bound on loopback (its app is set before it serves) and the thread that will run it."""
    server = make_server("127.0.0.1", port, None, threaded=True)
    return server, threading.Thread(target=server.serve_forever, daemon=True)


class ProjectsService:
    """The real projects service, which commerce's real ProjectsClient reaches through a proxy the tests can cut.

    The helpers write real rows into its database, committed: every test uses fresh ids, rows are left behind.
    """

    def __init__(self, engine: Engine, proxy: TcpProxy, client: ProjectsClient):
        self.engine, self.proxy, self.client = engine, proxy, client
        self.created: list[uuid.UUID] = []

    def add(self, operator_id: uuid.UUID, name: str = "Summer Gala", status: str = "live") -> ProjectRef:
        project = ProjectRef(id=uuid.uuid4(), operator_id=operator_id, name=name, status=status)
        with Session(self.engine) as session, session.begin():
            session.add(
                projects_models.Project(
                    id=project.id, operator_id=operator_id, name=name, status=status, type="private"
                )
            )
        self.created.append(project.id)
        return project

    def add_member(self, project_id: uuid.UUID, participant_id: uuid.UUID) -> None:
        with Session(self.engine) as session, session.begin():
            session.add(
                projects_models.Member(
                    project_id=project_id, participant_id=participant_id, email=f"{participant_id}@example.com"
                )
            )

    def add_photos(self, project_id: uuid.UUID, photographer_id: uuid.UUID, count: int = 1) -> list[uuid.UUID]:
        """``count`` ready photos of the project by this photographer (checkout needs no roster entry)."""
        ids = [uuid.uuid4() for _ in range(count)]
        with Session(self.engine) as session, session.begin():
            operator_id = session.get(projects_models.Project, project_id).operator_id
            session.add_all(
                projects_models.Photo(
                    id=photo_id,
                    project_id=project_id,
                    photographer_id=photographer_id,
                    object_key=f"operators/{operator_id}/projects/{project_id}/photos/{photo_id}/photo.jpg",
                    filename="photo.jpg",
                    content_type="image/jpeg",
                    size_bytes=1024,
                    status="ready",
                )
                for photo_id in ids
            )
        return ids

    def rename(self, project_id: uuid.UUID, name: str) -> None:
        with Session(self.engine) as session, session.begin():
            session.get(projects_models.Project, project_id).name = name
        self.client.forget(project_id)

    def delete(self, project_id: uuid.UUID) -> None:
        with Session(self.engine) as session, session.begin():
            session.execute(delete(projects_models.Project).where(projects_models.Project.id == project_id))
        self.client.forget(project_id)

    @property
    def down(self) -> bool:
        return self.proxy.mode != "forward"

    @down.setter
    def down(self, down: bool) -> None:
        """An outage: connections to projects are refused (and open ones dropped) until ``down = False``."""
        if down:
            self.proxy.refuse()
        else:
            self.proxy.restore()

    def reset(self) -> None:
        """After a test: projects back up, and commerce's ownership cache holds none of this test's projects."""
        if self.down:
            self.down = False
        for project_id in self.created:
            self.client.forget(project_id)


class AuthService:
    """The real auth service, which commerce's real AuthClient asks for an operator's card (its currency)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def add_operator(self, operator_id: uuid.UUID, currency: str = "EUR") -> None:
        """An operator account and its profile charging in ``currency`` (an existing one's currency is updated)."""
        with self.engine.begin() as connection:
            connection.execute(
                insert(auth_models.Account)
                .values(
                    id=operator_id,
                    role="operator",
                    operator_id=operator_id,
                    name="Olga Operator",
                    email=f"{operator_id}@example.com",
                    password_hash="!",
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
            connection.execute(
                insert(auth_models.OperatorProfile)
                .values(account_id=operator_id, currency=currency)
                .on_conflict_do_update(index_elements=["account_id"], set_={"currency": currency})
            )


@pytest.fixture(scope="session")
def stripe_api_base(tmp_path_factory):
    """localstripe, the stateful Stripe fake, on a free loopback port for the whole session."""
    port = free_port()
    state = tmp_path_factory.mktemp("localstripe") / "state.pickle"
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.localstripe", "--port", str(port), "--state", str(state)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{base}/v1/customers", auth=("sk_test_x", ""), timeout=1)
            break
        except requests.RequestException as error:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("localstripe did not start") from error
            time.sleep(0.1)
    yield base
    process.send_signal(signal.SIGTERM)
    process.wait(10)


@pytest.fixture(scope="session")
def database_url(pg_admin_url):
    return create_migrated_database(pg_admin_url, "unit_commerce", SERVICE_DIR / "alembic.ini")


@pytest.fixture(scope="session")
def peers(pg_admin_url, signing_key):
    """The real projects and auth apps, each on its own migrated database, served over HTTP from background
    threads; projects behind a TcpProxy so a test can take it down."""
    public_keys = json.dumps({signing_key.kid: signing_key.public_pem})
    projects_url = create_migrated_database(pg_admin_url, "unit_commerce_projects", PROJECTS_DIR / "alembic.ini")
    auth_url = create_migrated_database(pg_admin_url, "unit_commerce_auth", AUTH_DIR / "alembic.ini")
    projects_server, projects_thread = _serve()
    auth_server, auth_thread = _serve()
    proxy = TcpProxy(free_port(), projects_server.port).start()
    projects_server.app = create_projects_app(
        ProjectsSettings(
            app_env="test",
            database_url=projects_url,
            internal_token_secret=INTERNAL_TOKEN_SECRET,
            jwt_public_keys=public_keys,
            auth_url=f"http://127.0.0.1:{auth_server.port}",
        )
    )
    auth_server.app = create_auth_app(
        AuthSettings(
            app_env="test",
            database_url=auth_url,
            internal_token_secret=INTERNAL_TOKEN_SECRET,
            jwt_public_keys=public_keys,
            jwt_private_key=signing_key.private_pem,
            jwt_key_id=signing_key.kid,
            argon2_time_cost=1,
            argon2_memory_kib=1024,
            projects_url=f"http://127.0.0.1:{projects_server.port}",
        )
    )
    projects_thread.start()
    auth_thread.start()
    projects_engine, auth_engine = create_engine(projects_url), create_engine(auth_url)
    yield SimpleNamespace(
        projects_url=f"http://127.0.0.1:{proxy.listen_port}",
        auth_url=f"http://127.0.0.1:{auth_server.port}",
        projects_proxy=proxy,
        projects_engine=projects_engine,
        auth_engine=auth_engine,
        projects_app=projects_server.app,
    )
    proxy.stop()
    for server in (projects_server, auth_server):
        server.shutdown()
        server.server_close()
    for engine in (projects_engine, auth_engine):
        engine.dispose()
    for app in (projects_server.app, auth_server.app):
        app.extensions["database"].dispose()


@pytest.fixture(scope="session")
def app(database_url, signing_key, stripe_api_base, peers):
    return create_app(
        Settings(
            app_env="test",
            database_url=database_url,
            projects_url=peers.projects_url,
            auth_url=peers.auth_url,
            internal_token_secret=INTERNAL_TOKEN_SECRET,
            stripe_api_base=stripe_api_base,
            stripe_secret_key="sk_test_unit",
            stripe_webhook_secret=STRIPE_WEBHOOK_SECRET,
            jwt_public_keys=json.dumps({signing_key.kid: signing_key.public_pem}),
        )
    )


@pytest.fixture
def factories():
    """``factories.make_purchase(session, **overrides)`` and the other plain row makers of tests/factories.py."""
    return factory_module  # tests/factories.py, imported by its package path as every service's tests do


@pytest.fixture
def known_projects():
    """The projects service's answers as plain values (rule tests): ``add``, ``add_member``, ``add_photos``,
    and ``client`` for the rules that take a ProjectsClient."""
    return factory_module.StandInProjects()


def _provided(app, kind):
    with app.app_context():
        return dependency(kind)


@pytest.fixture
def provided(app):
    """``provided(Payments)``: what the app provides under a type (its clients), as its views reach it."""
    return lambda kind: _provided(app, kind)


@pytest.fixture
def projects(app, peers):
    service = ProjectsService(peers.projects_engine, peers.projects_proxy, _provided(app, ProjectsClient))
    yield service
    service.reset()


@pytest.fixture
def auth(peers) -> AuthService:
    return AuthService(peers.auth_engine)


@pytest.fixture
def operator_id() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def operator(make_token, operator_id) -> dict:
    """Headers of the operator's bearer token."""
    return {"Authorization": f"Bearer {make_token(sub=operator_id)}"}


@pytest.fixture
def shop(client, projects, auth, operator, operator_id):
    """A live project priced at 500 a photo, a member, and five ready photos by two photographers."""
    auth.add_operator(operator_id)
    project = projects.add(operator_id)
    assert client.post("/v1/pricing/rules", json={"pricePerPhotoCents": 500}, headers=operator).status_code == 201
    participant = {"id": str(uuid.uuid4()), "email": "guest@example.com", "name": "Guest"}
    projects.add_member(project.id, uuid.UUID(participant["id"]))
    alice, bob = uuid.uuid4(), uuid.uuid4()
    photos = projects.add_photos(project.id, alice, 3) + projects.add_photos(project.id, bob, 2)
    return type(
        "Shop", (), {"project": project, "participant": participant, "photos": photos, "alice": alice, "bob": bob}
    )
