"""Outbound webhooks (design §12, issue 12) through the real stack: producers' outboxes, the webhooks service's
intake and its worker, to a loopback receiver in the test that checks every signature with the secret the create
answer showed."""

import hashlib
import hmac
import json
import signal
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from sqlalchemy import text


class Receiver:
    """A loopback HTTP receiver: every POST kept per path; a path can answer 500 first, or hang until released."""

    def __init__(self):
        self.arrived: dict[str, list[dict]] = {}
        self.fail_first: set[str] = set()
        self.hang: set[str] = set()
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 — http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    seen = receiver.arrived.setdefault(self.path, [])
                    seen.append({"headers": dict(self.headers), "body": body, "at": time.monotonic()})
                    first = len(seen) == 1
                if self.path in receiver.hang:
                    receiver.release.wait(60)
                status = 500 if (first and self.path in receiver.fail_first) else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def events(self, path: str, secret: str) -> list[dict]:
        """What arrived at ``path``, each checked: signed with ``secret`` over exactly its bytes, recent, its
        Backoffice-Event-Id its body's id."""
        with self.lock:
            arrived = list(self.arrived.get(path, []))
        events = []
        for request in arrived:
            assert request["headers"]["Content-Type"] == "application/json"
            parts = dict(part.split("=", 1) for part in request["headers"]["Backoffice-Signature"].split(","))
            expected = hmac.new(
                secret.encode(), parts["t"].encode() + b"." + request["body"], hashlib.sha256
            ).hexdigest()
            assert hmac.compare_digest(parts["v1"], expected)
            assert abs(time.time() - int(parts["t"])) < 300
            event = json.loads(request["body"])
            assert set(event) == {"id", "type", "createdAt", "data"}
            assert request["headers"]["Backoffice-Event-Id"] == event["id"] and event["id"].startswith("evt_")
            events.append(event)
        return events

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def endpoint(gw, receiver):
    """``endpoint(owner, events=..., **fields)`` → (the create answer, its receiver path)."""

    def create(owner, events=("purchase.paid", "purchase.refunded", "member.joined"), **fields):
        path = f"/hooks/{uuid.uuid4().hex}"
        response = gw.post(
            "/v1/webhook-endpoints",
            token=owner.token,
            json={"url": receiver.url(path), "events": list(events), **fields},
        )
        assert response.status_code == 201, response.text
        return response.json(), path

    return create


@pytest.fixture
def shop(gw, feed, ready_photos, operator, photographer, new_project):
    project = new_project(operator, type="public", status="live")
    assert gw.post("/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 400}).status_code == 201
    return project, (lambda count: ready_photos(project["id"], photographer.id, count))


def test_each_event_arrives_signed_with_its_data(gw, feed, purchase, receiver, endpoint, wait_for, operator, shop):
    hook, path = endpoint(operator, description="CRM")
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) >= 38
    project, photos = shop
    guest = feed.participant()
    joined = feed.join(project["id"], guest)
    assert joined.status_code == 201
    assert feed.join(project["id"], guest).status_code == 200  # already a member: no second event
    paid = purchase(project["id"], guest, photos(2), "paid")
    refunded = purchase(project["id"], guest, photos(1), "refunded")
    assert wait_for(lambda: len(receiver.events(path, hook["secret"])) >= 4)
    time.sleep(1)  # nothing more is on its way (the repeated join made no event)
    events = receiver.events(path, hook["secret"])
    by_type = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    assert sorted((t, len(e)) for t, e in by_type.items()) == [
        ("member.joined", 1),
        ("purchase.paid", 2),
        ("purchase.refunded", 1),
    ]
    assert by_type["member.joined"][0]["data"] == joined.json()
    assert by_type["member.joined"][0]["createdAt"] == joined.json()["joinedAt"]
    details = {p["id"]: gw.get(f"/v1/purchases/{p['id']}", token=operator.token).json() for p in (paid, refunded)}
    paid_data = {event["data"]["id"]: event["data"] for event in by_type["purchase.paid"]}
    assert paid_data[paid["id"]] == details[paid["id"]]
    assert paid_data[refunded["id"]] == {**details[refunded["id"]], "status": "paid"}  # as it was when paid
    assert by_type["purchase.refunded"][0]["data"] == details[refunded["id"]]
    assert len({event["id"] for event in events}) == 4
    deliveries = f"/v1/webhook-endpoints/{hook['id']}/deliveries"
    assert wait_for(lambda: all(d["statusCode"] for d in gw.get(deliveries, token=operator.token).json()))
    listed = gw.get(deliveries, token=operator.token)
    assert listed.status_code == 200
    assert sorted((d["type"], d["attempt"], d["statusCode"]) for d in listed.json()) == [
        ("member.joined", 1, 200),
        ("purchase.paid", 1, 200),
        ("purchase.paid", 1, 200),
        ("purchase.refunded", 1, 200),
    ]
    assert all(d["succeededAt"] and d["nextAttemptAt"] is None and d["error"] is None for d in listed.json())


def test_a_500_is_retried_with_the_same_event_id(gw, feed, receiver, endpoint, wait_for, operator, new_project):
    hook, path = endpoint(operator, events=["member.joined"])
    receiver.fail_first.add(path)
    project = new_project(operator, type="public", status="live")
    assert feed.join(project["id"], feed.participant()).status_code == 201
    assert wait_for(lambda: len(receiver.events(path, hook["secret"])) >= 2)
    first, second = receiver.events(path, hook["secret"])[:2]
    assert first == second
    deliveries = f"/v1/webhook-endpoints/{hook['id']}/deliveries"
    assert wait_for(lambda: len(gw.get(deliveries, token=operator.token).json()) == 2)  # the answer recorded
    listed = gw.get(deliveries, token=operator.token).json()
    assert [(d["eventId"], d["attempt"], d["statusCode"]) for d in listed] == [
        (first["id"], 2, 200),
        (first["id"], 1, 500),
    ]
    assert listed[1]["nextAttemptAt"] is not None and listed[1]["succeededAt"] is None
    assert listed[0]["succeededAt"] is not None


def test_inactive_endpoints_and_other_operators_receive_nothing(
    gw, feed, receiver, endpoint, wait_for, operator, other_operator, new_project
):
    active, active_path = endpoint(operator, events=["member.joined"])
    inactive, inactive_path = endpoint(operator, events=["member.joined"])
    assert (
        gw.patch(f"/v1/webhook-endpoints/{inactive['id']}", token=operator.token, json={"isActive": False}).json()[
            "isActive"
        ]
        is False
    )
    theirs, their_path = endpoint(other_operator, events=["member.joined"])
    paid_only, paid_path = endpoint(operator, events=["purchase.paid"])
    project = new_project(operator, type="public", status="live")
    assert feed.join(project["id"], feed.participant()).status_code == 201
    assert wait_for(lambda: len(receiver.events(active_path, active["secret"])) == 1)
    time.sleep(1)
    assert receiver.arrived.get(inactive_path) is None
    assert receiver.arrived.get(their_path) is None
    assert receiver.arrived.get(paid_path) is None
    assert gw.get(f"/v1/webhook-endpoints/{inactive['id']}/deliveries", token=operator.token).json() == []
    assert gw.get(f"/v1/webhook-endpoints/{active['id']}/deliveries", token=other_operator.token).status_code == 404


def test_endpoint_crud_through_the_gateway(gw, operator, other_operator):
    created = gw.post(
        "/v1/webhook-endpoints",
        token=operator.token,
        json={"url": "https://crm.example.com/in", "events": ["purchase.paid"]},
    )
    assert created.status_code == 201
    hook = created.json()
    path = f"/v1/webhook-endpoints/{hook['id']}"
    assert [e["id"] for e in gw.get("/v1/webhook-endpoints", token=operator.token).json()] == [hook["id"]]
    assert "secret" not in gw.get(path, token=operator.token).json()
    for stranger_call in (
        lambda: gw.get(path, token=other_operator.token),
        lambda: gw.patch(path, token=other_operator.token, json={"isActive": False}),
        lambda: gw.delete(path, token=other_operator.token),
        lambda: gw.get(f"{path}/deliveries", token=other_operator.token),
    ):
        response = stranger_call()
        assert response.status_code == 404 and response.json()["code"] == 404
    assert gw.get("/v1/webhook-endpoints", token=other_operator.token).json() == []
    for body in (
        {"url": "https://crm.example.com/in", "events": ["purchase.lost"]},
        {"url": "https://crm.example.com/in", "events": []},
        {"url": "ftp://crm.example.com/in", "events": ["purchase.paid"]},
        {"url": "https://crm.example.com/in", "events": ["purchase.paid"], "secret": "whsec_my_own_secret_0123456789"},
    ):
        refused = gw.post("/v1/webhook-endpoints", token=operator.token, json=body)
        assert refused.status_code == 422 and refused.json()["status"] == "Unprocessable Entity"
    assert gw.patch(path, token=operator.token, json={"description": "Accounting"}).json()["description"] == (
        "Accounting"
    )
    assert gw.delete(path, token=operator.token).status_code == 204
    assert gw.get(path, token=operator.token).status_code == 404
    assert requests.post(f"{gw.base_url}/internal/events", json={}, timeout=10).status_code == 404  # never public


def _count_arrived(receiver, path, secret):
    return len({event["id"] for event in receiver.events(path, secret)})


def test_the_delivery_side_down_loses_nothing(stack, feed, receiver, endpoint, wait_for, operator, new_project):
    hook, path = endpoint(operator, events=["member.joined"])
    project = new_project(operator, type="public", status="live")
    stack.stop_service("webhooks-worker")
    stack.stop_service("webhooks")
    try:
        for _ in range(5):
            assert feed.join(project["id"], feed.participant()).status_code == 201
        time.sleep(1)
        assert receiver.arrived.get(path) is None
    finally:
        stack.start_service("webhooks")
        stack.start_worker("webhooks-worker")
    assert wait_for(lambda: _count_arrived(receiver, path, hook["secret"]) == 5, timeout=60)


def test_the_producing_side_killed_loses_nothing(
    stack, databases, feed, receiver, endpoint, wait_for, operator, new_project
):
    hook, path = endpoint(operator, events=["member.joined"])
    project = new_project(operator, type="public", status="live")
    stack.stop_service("projects-worker", sig=signal.SIGKILL)
    try:
        for _ in range(5):
            assert feed.join(project["id"], feed.participant()).status_code == 201
        with databases["projects"].connect() as connection:
            waiting = connection.execute(
                text("SELECT count(*) FROM outbox WHERE kind = 'webhooks.event' AND payload->>'operatorId' = :op"),
                {"op": operator.id},
            ).scalar()
        assert waiting == 5  # in the outbox, written with the members
        stack.stop_service("webhooks-worker", sig=signal.SIGKILL)  # and the sender too, mid-way
    finally:
        stack.start_worker("projects-worker")
        stack.start_worker("webhooks-worker")
    assert wait_for(lambda: _count_arrived(receiver, path, hook["secret"]) == 5, timeout=60)


def test_a_dead_endpoint_does_not_delay_another_operator(
    stack, gw, service_headers, receiver, endpoint, wait_for, operator, other_operator
):
    """Operator A's receiver hangs on every request (until the test releases it); 40 of its events are due, more
    than the worker has threads. Operator B's one event still arrives while A's first attempts hang."""
    dead, dead_path = endpoint(operator, events=["member.joined"])
    alive, alive_path = endpoint(other_operator, events=["member.joined"])
    receiver.hang.add(dead_path)

    def publish(owner):
        event = {
            "id": "evt_" + uuid.uuid4().hex[:24],
            "type": "member.joined",
            "operatorId": owner.id,
            "createdAt": "2026-12-01T10:00:00.000Z",
            "data": {"projectId": str(uuid.uuid4()), "participantId": str(uuid.uuid4()), "joinedAt": "x"},
        }
        response = requests.post(
            f"{stack.service_url('webhooks')}/internal/events", headers=service_headers, json=event, timeout=10
        )
        assert response.status_code == 201, response.text
        return event["id"]

    for _ in range(40):
        publish(operator)
    assert wait_for(lambda: len(receiver.arrived.get(dead_path, [])) >= 1)
    mine = publish(other_operator)
    assert wait_for(lambda: _count_arrived(receiver, alive_path, alive["secret"]) == 1)
    assert receiver.events(alive_path, alive["secret"])[0]["id"] == mine
    # A's first attempts are still hanging (none recorded yet), and they hold at most the endpoint's share.
    assert gw.get(f"/v1/webhook-endpoints/{dead['id']}/deliveries", token=operator.token).json()[0]["attempt"] == 0
    assert len(receiver.arrived.get(dead_path, [])) <= 4
    receiver.release.set()
    assert wait_for(lambda: len({e["id"] for e in receiver.events(dead_path, dead["secret"])}) == 40, timeout=90)
