"""The end-to-end suite: real PostgreSQL, the four services under gunicorn, and
nginx with the real gateway config, driven over HTTP on loopback."""
import pytest
from sqlalchemy import create_engine

from devstack.client import Gateway
from devstack.stack import Stack

# Test-friendly knobs only: cheap argon2 (the cost profile is not under test here) and
# a credential rate limit loose enough for the suite; the throttle test uses its own address.
SERVICE_ENV = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "1024", "WEB_CONCURRENCY": "2",
               "OUTBOX_POLL_S": "0.1", "OUTBOX_BACKOFF_BASE_S": "0.2", "OUTBOX_BACKOFF_MAX_S": "1"}
RATE_LIMIT = {"AUTH_RATE_LIMIT": "20r/s", "AUTH_RATE_BURST": "200"}


def pytest_collection_modifyitems(items):
    for item in items:
        if "/tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack(pg_cluster):
    workdir = pg_cluster.base / "stack"
    access_log = workdir / "gateway-access.log"
    stack = Stack(workdir, pg_cluster, env=SERVICE_ENV,
                  gateway_vars={**RATE_LIMIT, "GATEWAY_ACCESS_LOG": f"{access_log} json_access"})
    stack.access_log = access_log
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def gw(stack) -> Gateway:
    return Gateway(stack.gateway_url)


@pytest.fixture(scope="session")
def databases(stack):
    engines = {name: create_engine(stack.cluster.url(stack.db_prefix + name)) for name in
               ("auth", "projects", "commerce", "analytics")}
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture
def operator(gw):
    return gw.register_operator(name="Lumen Studio")


@pytest.fixture
def other_operator(gw):
    return gw.register_operator(name="Other Studio")


@pytest.fixture
def photographer(gw, operator):
    return gw.register_photographer(operator)


@pytest.fixture
def new_project(gw):
    """``new_project(operator, **fields)`` → the created project's detail."""
    def create(owner, **fields):
        response = gw.post("/v1/projects", token=owner.token, json={"name": "Summer Gala", **fields})
        assert response.status_code == 201, response.text
        return response.json()
    return create


@pytest.fixture
def project(new_project, operator):
    return new_project(operator)


@pytest.fixture
def assigned(gw, operator, photographer, project):
    """The operator's project with the photographer assigned to it."""
    assert gw.post(f"/v1/projects/{project['id']}/photographers", token=operator.token,
                   json={"photographerId": photographer.id}).status_code == 204
    return project


@pytest.fixture
def service_headers():
    """Headers with a service token, as the platform's other parts send them (design §9)."""
    from backoffice_common.config import DEV_INTERNAL_SECRET
    from backoffice_common.internal import make_service_token
    return {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'participant-app')}"}


@pytest.fixture
def wait_for():
    def wait(predicate, timeout=30.0, interval=0.1):
        import time
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(interval)
        return False
    return wait
