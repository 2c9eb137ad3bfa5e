"""For on-call (issue 13): each service's Prometheus metrics on its own port, the workers' on theirs, and the
gateway's stub_status on a listen port of its own — none of them reachable through the public gateway."""

import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

NOT_FOUND = {"code": 404, "status": "Not Found", "message": "No route here.", "errors": {}}


def scrape(url: str) -> dict:
    """Every sample of a Prometheus text page: {(name, frozenset(labels)): value}."""
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def service_metrics(stack, service: str) -> dict:
    return scrape(f"{stack.service_url(service)}/metrics")


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.parametrize("path", ["/metrics", "/v1/metrics", "/stub_status", "/v1/stub_status"])
def test_metrics_and_stub_status_are_not_public(gw, path):
    response = gw.get(path)
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def _requests_of(stack, gw, operator, project):
    """Per service: a request through the gateway, the route template it must be counted under and its status."""
    return {
        "auth": (lambda: gw.get("/v1/operators/me", token=operator.token), "/v1/operators/me", 200),
        "projects": (
            lambda: gw.get(f"/v1/projects/{project['id']}", token=operator.token),
            "/v1/projects/<uuid:project_id>",
            200,
        ),
        "commerce": (lambda: gw.get("/v1/pricing/rules", token=operator.token), "/v1/pricing/rules", 200),
        "analytics": (lambda: gw.get("/v1/analytics", token=operator.token), "/v1/analytics", 200),
        "webhooks": (lambda: gw.get("/v1/webhook-endpoints", token=operator.token), "/v1/webhook-endpoints", 200),
    }


@pytest.mark.parametrize("service", ["auth", "projects", "commerce", "analytics", "webhooks"])
def test_a_request_is_counted_under_its_route_template(stack, gw, operator, project, service):
    call, route, status = _requests_of(stack, gw, operator, project)[service]
    before = service_metrics(stack, service)
    assert call().status_code == status
    after = service_metrics(stack, service)
    counted = {"method": "GET", "route": route, "status": str(status)}
    assert value(after, "http_requests_total", **counted) == value(before, "http_requests_total", **counted) + 1
    timed = {"method": "GET", "route": route}
    assert (
        value(after, "http_request_duration_seconds_count", **timed)
        == value(before, "http_request_duration_seconds_count", **timed) + 1
    )
    assert value(after, "http_request_duration_seconds_bucket", le="+Inf", **timed) == value(
        after, "http_request_duration_seconds_count", **timed
    )
    assert 0 < value(after, "http_request_duration_seconds_sum", **timed)
    # The raw path never becomes a label: only Flask's rule (unbounded label values would swamp Prometheus).
    assert not [labels for _, labels in after if project["id"] in str(labels)]
    # Idle between requests, every session's connection is back in its pool (the gauge sums the gunicorn workers);
    # of the autocommit reads' pool, only the one connection each request thread keeps for read_one is out. Both
    # pools are reported apart.
    for pool in ("sessions", "reads"):
        assert ("db_pool_connections_in_use", frozenset({("pool", pool)})) in after
    assert value(after, "db_pool_connections_in_use", pool="sessions") == 0
    for _ in range(8):  # more requests than the service has threads (2 workers × 2 here): one kept a thread at most
        assert call().status_code == status
    assert value(service_metrics(stack, service), "db_pool_connections_in_use", pool="reads") <= 4


def test_a_path_no_route_matches_is_counted_without_its_path(stack):
    before = service_metrics(stack, "projects")
    assert requests.get(f"{stack.service_url('projects')}/v1/nowhere-{uuid.uuid4()}", timeout=10).status_code == 404
    after = service_metrics(stack, "projects")
    labels = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert value(after, "http_requests_total", **labels) == value(before, "http_requests_total", **labels) + 1


def test_outbox_depth_and_age_and_smtp_outcomes(gw, stack, wait_for, operator, project):
    emails = [f"metrics{i}-{uuid.uuid4().hex[:8]}@example.com" for i in range(5)]
    worker = stack.metrics_url("projects-worker")
    sent_before = scrape(worker)
    stack.smtp_proxy.refuse()
    try:
        assert (
            gw.post(
                f"/v1/projects/{project['id']}/invites/bulk", token=operator.token, json={"emails": emails}
            ).status_code
            == 202
        )
        assert wait_for(
            lambda: (
                value(scrape(worker), "smtp_sends_total", operation="send", outcome="failed")
                > value(sent_before, "smtp_sends_total", operation="send", outcome="failed")
            ),
            timeout=15,
        )
        waiting = service_metrics(stack, "projects")
        assert value(waiting, "outbox_messages", kind="email.invite") >= 5
        assert value(waiting, "outbox_oldest_message_age_seconds", kind="email.invite") > 0
        # Every kind the worker handles is reported, at 0 when none waits.
        assert ("outbox_messages", frozenset({("kind", "r2.delete_objects")})) in waiting
    finally:
        stack.smtp_proxy.restore()
    assert wait_for(
        lambda: value(service_metrics(stack, "projects"), "outbox_messages", kind="email.invite") == 0, timeout=60
    )
    drained = service_metrics(stack, "projects")
    assert value(drained, "outbox_oldest_message_age_seconds", kind="email.invite") == 0
    assert (
        value(scrape(worker), "smtp_sends_total", operation="send", outcome="ok")
        >= value(sent_before, "smtp_sends_total", operation="send", outcome="ok") + 5
    )


def test_purchases_by_status_and_stripe_outcomes(gw, stack, feed, ready_photos, purchase, operator, new_project):
    assert gw.post("/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 400}).status_code == 201
    ann = gw.register_photographer(operator)
    live = new_project(operator, name="Metrics", type="public", status="live")
    guests = [feed.participant() for _ in range(2)]
    for guest in guests:
        assert feed.join(live["id"], guest).status_code == 201
    photos = ready_photos(live["id"], ann.id, 2)
    before = service_metrics(stack, "commerce")
    purchase(live["id"], guests[0], photos[:1], "paid")
    purchase(live["id"], guests[1], photos[1:], "pending")
    after = service_metrics(stack, "commerce")
    for status, more in (("paid", 1), ("pending", 1), ("failed", 0), ("refunded", 0)):
        assert (
            value(after, "commerce_purchases", status=status)
            == value(before, "commerce_purchases", status=status) + more
        )
    assert value(after, "commerce_oldest_pending_purchase_age_seconds") > 0
    ok = {"operation": "create_payment_intent", "outcome": "ok"}
    assert value(after, "stripe_calls_total", **ok) == value(before, "stripe_calls_total", **ok) + 2


def test_gateway_stub_status_on_its_own_port(stack, gw):
    assert gw.get("/healthz").status_code == 200
    response = requests.get(stack.gateway_status_url, timeout=10)
    assert response.status_code == 200
    lines = response.text.splitlines()
    assert lines[0].startswith("Active connections: ") and int(lines[0].split(": ")[1]) >= 1
    assert lines[1].strip() == "server accepts handled requests"
    accepts, handled, total = map(int, lines[2].split())
    assert accepts >= 1 and handled >= 1 and total >= 1
    # The status port serves nothing else: no API route behind it.
    assert (
        requests.get(stack.gateway_status_url.replace("/stub_status", "/v1/analytics"), timeout=10).status_code == 404
    )
