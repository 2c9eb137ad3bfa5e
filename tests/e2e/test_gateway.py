"""The nginx gateway: routing to each owner, JSON for its own failures, limits, request ids."""

import json
import time
import uuid

import pytest

from devstack.client import Gateway

NOT_FOUND = {"code": 404, "status": "Not Found", "message": "No route here.", "errors": {}}


def _upstream_of(stack, request_id: str) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for line in stack.access_log.read_text().splitlines():
            entry = json.loads(line)
            if entry["request_id"] == request_id:
                return entry["upstream"]
        time.sleep(0.05)
    raise AssertionError(f"request {request_id} not in the gateway access log")


@pytest.mark.parametrize(
    "method, path, owner",
    [
        ("POST", "/v1/auth/login", "auth"),
        ("POST", "/v1/auth/register-photographer", "auth"),
        ("GET", "/v1/operators/me", "auth"),
        ("GET", "/v1/projects", "projects"),
        ("GET", "/v1/projects/7d0f5f9e-3a43-4f65-9a37-1c1f4d8a9a10", "projects"),
        ("GET", "/v1/projects/7d0f5f9e-3a43-4f65-9a37-1c1f4d8a9a10/invites", "projects"),
        ("GET", "/v1/photographers", "projects"),
        ("GET", "/v1/photographers/me/projects", "projects"),
        ("GET", "/v1/projects/7d0f5f9e-3a43-4f65-9a37-1c1f4d8a9a10/discounts", "commerce"),
        (
            "DELETE",
            "/v1/projects/7d0f5f9e-3a43-4f65-9a37-1c1f4d8a9a10/discounts/0d9a2f59-0a4b-4c9e-8b47-3b1d0b1f2c3d",
            "commerce",
        ),
        ("GET", "/v1/pricing/rules", "commerce"),
        ("GET", "/v1/discounts", "commerce"),
        ("GET", "/v1/promo-codes", "commerce"),
        ("GET", "/v1/purchases", "commerce"),
        ("GET", "/v1/purchases/7d0f5f9e-3a43-4f65-9a37-1c1f4d8a9a10", "commerce"),
        ("POST", "/v1/webhooks/stripe", "commerce"),
        ("GET", "/v1/analytics", "analytics"),
        ("GET", "/v1/webhook-endpoints", "webhooks"),
        ("GET", "/v1/webhook-endpoints/7d0f5f9e-3a43-4f65-9a37-1c1f4d8a9a10/deliveries", "webhooks"),
    ],
)
def test_each_prefix_reaches_its_owner(gw, stack, method, path, owner):
    request_id = uuid.uuid4().hex
    response = gw.request(method, path, headers={"X-Request-ID": request_id}, json={})
    assert response.headers["X-Request-ID"] == request_id
    assert response.headers["Content-Type"].startswith("application/json")
    assert _upstream_of(stack, request_id) == f"127.0.0.1:{stack.ports.of(owner)}"


@pytest.mark.parametrize(
    "path",
    [
        "/internal/participants",
        "/internal/photographers/x",
        "/internal/events",
        "/v1/webhook-endpointsX",
        "/nope",
        "/v1",
        "/v1/projectsX",
        "/v2/projects",
        "/v1/auth",
        "/v1/operators",
    ],
)
def test_unknown_and_internal_paths_are_json_404(gw, path):
    for method in ("GET", "POST"):
        response = gw.request(method, path, json={}, allow_redirects=False)
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json() == NOT_FOUND


def test_unknown_paths_under_a_service_prefix_are_json_404(gw):
    response = gw.get("/v1/operators/someone-else")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"code", "status", "message", "errors"} and response.json()["code"] == 404


def test_request_id_is_generated_and_forwarded(gw):
    response = gw.get("/v1/operators/me")
    assert len(response.headers["X-Request-ID"]) == 32
    bad = gw.get("/v1/operators/me", headers={"X-Request-ID": "bad id with spaces"})
    assert bad.headers["X-Request-ID"] != "bad id with spaces"


def test_server_version_is_hidden(gw):
    assert gw.get("/nope").headers.get("Server") == "nginx"


def test_oversized_body_is_413_json(gw):
    response = gw.post("/v1/auth/register", data=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == 413


def test_login_is_throttled_per_client_address(stack):
    # Its own source address, so the rest of the suite keeps its own budget.
    client = Gateway(stack.gateway_url, source_ip="127.0.0.77")
    # Until the first 429, not a fixed count: on a loaded machine the bucket refills (20 r/s) while we send.
    passed = 0
    for _ in range(2000):
        throttled = client.post("/v1/auth/login", json={"email": "nobody@example.com"})
        if throttled.status_code != 422:
            break
        passed += 1
    assert passed >= 200  # the burst reaches the service
    assert throttled.status_code == 429
    assert throttled.json() == {
        "code": 429,
        "status": "Too Many Requests",
        "message": "Too many attempts; slow down and try again.",
        "errors": {},
    }
    assert throttled.headers["Retry-After"] == "1"
    # other routes are not throttled for that address
    assert client.get("/v1/operators/me").status_code == 401


def test_a_service_down_is_503_json(gw, stack):
    stack.stop_service("analytics")
    try:
        response = gw.get("/v1/analytics")
    finally:
        stack.start_service("analytics")
    assert response.status_code == 503
    assert response.json()["code"] == 503 and response.json()["status"] == "Service Unavailable"
