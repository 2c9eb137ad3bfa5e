"""The projects client: ownership answers, their short cache, and a projects service that is down."""

import uuid

import pytest
from flask import request, request_started

from backoffice_common.config import DEV_INTERNAL_SECRET as INTERNAL_TOKEN_SECRET  # as the peers in conftest
from backoffice_common.errors import ServiceUnavailable
from backoffice_common.internal import InternalClient
from commerce_service.clients.projects import LOOKUP_MAX, ProjectsClient, TtlCache
from devstack import free_port


@pytest.fixture
def calls(peers):
    """The paths the real projects service is asked for, seen through Flask's request signal."""
    seen = []

    def record(sender, **_):
        seen.append(request.path)

    request_started.connect(record, peers.projects_app)
    yield seen
    request_started.disconnect(record, peers.projects_app)


def client_for(url: str, **kw) -> ProjectsClient:
    return ProjectsClient(
        InternalClient(url, name="projects", secret=INTERNAL_TOKEN_SECRET, caller="commerce", retries=0), **kw
    )


def test_answers_are_cached(peers, projects, calls):
    operator_id = uuid.uuid4()
    known = projects.add(operator_id, name="Gala")
    client = client_for(peers.projects_url)
    unknown = uuid.uuid4()
    for _ in range(3):
        project = client.get_project(known.id)
        assert (project.id, project.operator_id, project.name, project.status) == (
            known.id,
            operator_id,
            "Gala",
            "live",
        )
        assert client.get_project(unknown) is None
    assert calls == [f"/internal/projects/{known.id}", f"/internal/projects/{unknown}"]
    client.forget(known.id)
    client.get_project(known.id)
    assert len(calls) == 3


def test_cached_names_ask_only_for_projects_not_seen_recently(peers, projects, calls):
    operator_id = uuid.uuid4()
    gala, fair = projects.add(operator_id, name="Gala"), projects.add(operator_id, name="Fair")
    gone = uuid.uuid4()
    client = client_for(peers.projects_url)
    assert client.project_names([gala.id, gone], cached=True) == {gala.id: "Gala"}
    assert client.project_names([gala.id, gone, fair.id], cached=True) == {gala.id: "Gala", fair.id: "Fair"}
    assert client.project_names([fair.id, gone], cached=True) == {fair.id: "Fair"}
    assert calls == ["/internal/projects/lookup"] * 2  # the second asked for Fair alone; the third for nothing
    projects.rename(gala.id, "Winter Gala")
    assert client.project_names([gala.id], cached=True) == {gala.id: "Gala"}  # a rename shows within the TTL
    assert client.project_names([gala.id]) == {gala.id: "Winter Gala"} and len(calls) == 3  # uncached: always asks
    client.forget(gala.id)
    assert client.project_names([gala.id], cached=True) == {gala.id: "Winter Gala"} and len(calls) == 4


def test_names_of_more_projects_than_one_lookup_takes_are_asked_in_parts(peers, projects, calls):
    operator_id = uuid.uuid4()
    gala = projects.add(operator_id, name="Gala")
    unknown = [uuid.uuid4() for _ in range(LOOKUP_MAX + 1)]  # the real lookup refuses more than LOOKUP_MAX ids
    assert client_for(peers.projects_url).project_names([*unknown, gala.id]) == {gala.id: "Gala"}
    assert calls == ["/internal/projects/lookup"] * 2


def test_projects_down_is_503():
    with pytest.raises(ServiceUnavailable):
        client_for(f"http://127.0.0.1:{free_port()}").get_project(uuid.uuid4())


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


def test_ttl_cache_says_until_when_its_values_hold():
    """What lets a kept purchase page skip asking for its names (purchases/listing.py _same_names)."""
    now = [0.0]
    cache = TtlCache(ttl_s=30, clock=lambda: now[0])
    cache.set("a", "Gala")
    now[0] = 10.0
    cache.set("b", "Fair")
    assert cache.fresh_until(["a", "b"]) == 30.0 and cache.fresh_until([]) == float("inf")
    assert cache.fresh_until(["a", "unknown"]) == float("-inf")
    changes = cache.changes
    cache.set("a", "Gala")  # the same value again: nothing changed
    cache.set("c", "New")  # a new entry: nothing anyone used changed
    assert cache.changes == changes
    cache.set("a", "Winter Gala")  # a live entry replaced (an uncached lookup saw a rename)
    assert cache.changes == changes + 1
    cache.discard("b")
    cache.discard("never there")
    assert cache.changes == changes + 2
