"""The end-to-end suite: real PostgreSQL, the four services under gunicorn, and
nginx with the real gateway config, driven over HTTP on loopback."""

import time
import uuid

import pytest
import requests
from sqlalchemy import create_engine, text

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token
from devstack import stripe_events
from devstack.client import Gateway
from devstack.stack import STRIPE_WEBHOOK_SECRET, Stack

# Test-friendly knobs only: cheap argon2 (the cost profile is not under test here) and
# a credential rate limit loose enough for the suite; the throttle test uses its own address.
SERVICE_ENV = {
    "ARGON2_TIME_COST": "1",
    "ARGON2_MEMORY_KIB": "1024",
    "WEB_CONCURRENCY": "2",
    "OUTBOX_POLL_S": "0.1",
    "OUTBOX_BACKOFF_BASE_S": "0.2",
    "OUTBOX_BACKOFF_MAX_S": "1",
    # The commerce worker sweeps often; the TTL stays an hour, so only back-dated purchases are stale.
    "SWEEP_INTERVAL_S": "0.2",
    # Webhook retries within the test's patience (the 24-hour window itself is a rule test).
    "WEBHOOK_BACKOFF_BASE_S": "0.3",
    "WEBHOOK_BACKOFF_MAX_S": "1",
}
RATE_LIMIT = {"AUTH_RATE_LIMIT": "20r/s", "AUTH_RATE_BURST": "200"}


def pytest_collection_modifyitems(items):
    for item in items:
        if "/tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack(pg_cluster):
    workdir = pg_cluster.base / "stack"
    access_log = workdir / "gateway-access.log"
    stack = Stack(
        workdir,
        pg_cluster,
        env=SERVICE_ENV,
        gateway_vars={**RATE_LIMIT, "GATEWAY_ACCESS_LOG": f"{access_log} json_access"},
    )
    stack.access_log = access_log
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def gw(stack) -> Gateway:
    return Gateway(stack.gateway_url)


@pytest.fixture(scope="session")
def databases(stack):
    engines = {
        name: create_engine(stack.cluster.url(stack.db_prefix + name))
        for name in ("auth", "projects", "commerce", "analytics", "webhooks")
    }
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
    assert (
        gw.post(
            f"/v1/projects/{project['id']}/photographers",
            token=operator.token,
            json={"photographerId": photographer.id},
        ).status_code
        == 204
    )
    return project


@pytest.fixture
def service_headers():
    """Headers with a service token, as the platform's other parts send them (design §9)."""
    return {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'participant-app')}"}


class Feed:
    """The platform's other parts calling our internal feed (design §9) with a service token."""

    def __init__(self, stack, headers):
        self.stack, self.headers = stack, headers

    def participant(self, email=None) -> dict:
        """A participant signed up in auth (a fresh email unless given)."""
        email = email or f"p-{uuid.uuid4().hex[:10]}@example.com"
        return requests.post(
            f"{self.stack.service_url('auth')}/internal/participants",
            headers=self.headers,
            json={"email": email, "name": "Guest"},
            timeout=10,
        ).json()

    def join(self, project_id, participant, **extra) -> requests.Response:
        return requests.post(
            f"{self.stack.service_url('projects')}/internal/projects/{project_id}/members",
            headers=self.headers,
            json={"participantId": participant["id"], "email": participant["email"], **extra},
            timeout=10,
        )

    def tag(self, photo_id, participants) -> requests.Response:
        return requests.post(
            f"{self.stack.service_url('projects')}/internal/photos/{photo_id}/tags",
            headers=self.headers,
            json={"participantIds": [p["id"] for p in participants]},
            timeout=10,
        )


@pytest.fixture
def feed(stack, service_headers) -> Feed:
    return Feed(stack, service_headers)


@pytest.fixture
def wait_for():
    def wait(predicate, timeout=30.0, interval=0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(interval)
        return False

    return wait


@pytest.fixture
def ready_photos(databases):
    """``ready_photos(project_id, photographer_id, count)`` → ids of photos written straight into projects'
    database as uploaded (the upload flow has its own tests in test_photos)."""

    def write(project_id, photographer_id, count, status="ready"):
        ids = [str(uuid.uuid4()) for _ in range(count)]
        with databases["projects"].begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO photos (id, project_id, photographer_id, object_key, filename, content_type, "
                    "size_bytes, status) VALUES (:id, :project, :photographer, :key, 'a.jpg', 'image/jpeg', 1, :status)"
                ),
                [
                    {
                        "id": photo_id,
                        "project": project_id,
                        "photographer": photographer_id,
                        "key": f"test/{photo_id}",
                        "status": status,
                    }
                    for photo_id in ids
                ],
            )
        return ids

    return write


@pytest.fixture
def stripe_webhook(gw):
    """``stripe_webhook(event)`` → the gateway's answer to Stripe delivering ``event``, signed as Stripe signs."""
    return lambda event, secret=STRIPE_WEBHOOK_SECRET, signature=None: stripe_events.deliver(
        gw, event, secret, signature
    )


@pytest.fixture
def purchase(stack, service_headers, stripe_webhook):
    """``purchase(project_id, participant, photo_ids, outcome)`` → a checkout through commerce, then Stripe's
    webhook for ``outcome`` (``paid``, ``failed``, ``refunded``, or ``pending`` for none)."""

    def buy(project_id, participant, photo_ids, outcome="paid", **extra):
        response = requests.post(
            f"{stack.service_url('commerce')}/internal/checkout",
            headers=service_headers,
            timeout=30,
            json={"projectId": project_id, "participant": participant, "photoIds": photo_ids, **extra},
        )
        assert response.status_code == 201, response.text
        detail = response.json()
        if outcome in ("paid", "refunded"):
            assert stripe_webhook(stripe_events.intent_event("payment_intent.succeeded", detail)).status_code == 200
        if outcome == "failed":
            assert (
                stripe_webhook(stripe_events.intent_event("payment_intent.payment_failed", detail)).status_code == 200
            )
        if outcome == "refunded":
            assert stripe_webhook(stripe_events.refund_event(detail)).status_code == 200
        return detail

    return buy
