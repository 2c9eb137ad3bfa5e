"""The projects client: ownership answers, their short cache, and a projects service that is down."""
import threading
import uuid

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.errors import ServiceUnavailable
from backoffice_common.internal import InternalClient, verify_service_token
from commerce_service.clients.projects import ProjectsClient, TtlCache
from devstack import free_port

OPERATOR = uuid.uuid4()
KNOWN = uuid.uuid4()


@pytest.fixture
def projects_service():
    """A stand-in for projects' GET /internal/projects/:id that counts its calls."""
    calls = []

    @Request.application
    def application(request):
        verify_service_token(request.headers["Authorization"].split()[1], DEV_INTERNAL_SECRET)
        calls.append(request.path)
        if request.path == f"/internal/projects/{KNOWN}":
            return Response(f'{{"id": "{KNOWN}", "operatorId": "{OPERATOR}", "name": "Gala", "status": "live"}}',
                            content_type="application/json")
        return Response('{"code": 404}', status=404, content_type="application/json")

    server = make_server("127.0.0.1", free_port(), application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.calls = calls
    yield server
    server.shutdown()


def client_for(port: int, **kw) -> ProjectsClient:
    return ProjectsClient(InternalClient(f"http://127.0.0.1:{port}", name="projects", secret=DEV_INTERNAL_SECRET,
                                         caller="commerce", retries=0), **kw)


def test_answers_are_cached(projects_service):
    client = client_for(projects_service.server_port)
    unknown = uuid.uuid4()
    for _ in range(3):
        project = client.get_project(KNOWN)
        assert (project.id, project.operator_id, project.name) == (KNOWN, OPERATOR, "Gala")
        assert client.get_project(unknown) is None
    assert len(projects_service.calls) == 2
    client.forget(KNOWN)
    client.get_project(KNOWN)
    assert len(projects_service.calls) == 3


def test_projects_down_is_503():
    with pytest.raises(ServiceUnavailable):
        client_for(free_port()).get_project(KNOWN)


def test_ttl_cache_expires_and_stays_bounded():
    now = [0.0]
    cache = TtlCache(ttl_s=30, max_entries=2, clock=lambda: now[0])
    cache.set("a", 1)
    assert cache.get("a") == 1
    now[0] = 29.9
    assert cache.get("a") == 1
    now[0] = 30.0
    assert cache.get("a", None) is None
    for key in "xyz":
        cache.set(key, key)
    assert (cache.get("x", None), cache.get("y"), cache.get("z")) == (None, "y", "z")
    cache.set("none", None)
    assert cache.get("none", "missing") is None  # a cached "no such project" is an answer too
