"""Endpoint CRUD (design §12) through the app on real PostgreSQL: validation, the secret shown once, the limit of
20, and tenant isolation."""

import uuid

import pytest
from sqlalchemy import text

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token

SERVICE = {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'commerce-worker')}"}
LISTED = {"id", "url", "events", "description", "isActive", "createdAt", "updatedAt"}


@pytest.fixture
def operator(operator_headers):
    operator_id = uuid.uuid4()
    return operator_id, operator_headers(operator_id)


def _create(client, headers, **body):
    return client.post(
        "/v1/webhook-endpoints",
        headers=headers,
        json={"url": "http://127.0.0.1:9/hook", "events": ["purchase.paid"], **body},
    )


def test_create_shows_the_secret_once(client, operator):
    _, headers = operator
    created = _create(client, headers, description="CRM", events=["purchase.paid", "member.joined"])
    assert created.status_code == 201, created.json
    body = created.json
    assert set(body) == LISTED | {"secret"}
    assert body["secret"].startswith("whsec_") and len(body["secret"]) >= 6 + 32
    assert body["isActive"] is True and body["events"] == ["purchase.paid", "member.joined"]
    assert body["description"] == "CRM"
    one = client.get(f"/v1/webhook-endpoints/{body['id']}", headers=headers)
    assert one.status_code == 200 and set(one.json) == LISTED
    listed = client.get("/v1/webhook-endpoints", headers=headers)
    assert listed.status_code == 200 and [e["id"] for e in listed.json] == [body["id"]]
    assert "secret" not in listed.json[0]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"events": ["purchase.shipped"]}, "events"),
        ({"events": []}, "events"),
        ({"events": ["purchase.paid", "purchase.paid"]}, "events"),
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "http://169.254.169.254/latest"}, "url"),
        ({"url": "https://user:pw@example.com/"}, "url"),
        ({"secret": "whsec_mine_mine_mine_mine_mine_mine_mine"}, "secret"),
        ({"isActive": False}, "isActive"),
    ],
)
def test_invalid_creates_are_422(client, operator, body, field):
    response = _create(client, operator[1], **body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]


def test_missing_fields_are_422(client, operator):
    response = client.post("/v1/webhook-endpoints", headers=operator[1], json={})
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"url", "events"}


def test_patch_and_delete(client, operator):
    _, headers = operator
    endpoint = _create(client, headers).json
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    patched = client.patch(
        path,
        headers=headers,
        json={"isActive": False, "events": ["member.joined"], "description": None, "url": "http://localhost:1/x"},
    )
    assert patched.status_code == 200, patched.json
    assert (patched.json["isActive"], patched.json["events"], patched.json["url"]) == (
        False,
        ["member.joined"],
        "http://localhost:1/x",
    )
    assert "secret" not in patched.json
    assert client.patch(path, headers=headers, json={"events": []}).status_code == 422
    assert client.patch(path, headers=headers, json={"url": "gopher://x"}).status_code == 422
    assert client.patch(path, headers=headers, json={"secret": "whsec_x"}).status_code == 422
    assert client.patch(path, headers=headers, json={"isActive": "yes"}).status_code == 422
    assert client.delete(path, headers=headers).status_code == 204
    assert client.get(path, headers=headers).status_code == 404
    assert client.delete(path, headers=headers).status_code == 404


def test_another_operators_endpoint_is_404(client, operator, operator_headers):
    _, headers = operator
    endpoint = _create(client, headers).json
    stranger = operator_headers(uuid.uuid4())
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    assert client.get(path, headers=stranger).status_code == 404
    assert client.patch(path, headers=stranger, json={"isActive": False}).status_code == 404
    assert client.delete(path, headers=stranger).status_code == 404
    assert client.get(f"{path}/deliveries", headers=stranger).status_code == 404
    assert client.get("/v1/webhook-endpoints", headers=stranger).json == []
    assert client.get(path, headers=headers).json["isActive"] is True  # untouched


def test_at_most_20_endpoints(client, operator):
    _, headers = operator
    for _ in range(20):
        assert _create(client, headers).status_code == 201
    refused = _create(client, headers)
    assert refused.status_code == 409 and "20" in refused.json["message"]


def test_photographers_and_strangers_are_refused(client, make_token):
    assert client.get("/v1/webhook-endpoints").status_code == 401
    photographer = {"Authorization": f"Bearer {make_token(role='photographer')}"}
    assert client.get("/v1/webhook-endpoints", headers=photographer).status_code == 403


def test_the_intake_queues_one_delivery_per_matching_active_endpoint(client, db_session, operator, operator_headers):
    operator_id, headers = operator
    paid = _create(client, headers, events=["purchase.paid"]).json
    both = _create(client, headers, events=["member.joined", "purchase.paid"]).json
    _create(client, headers, events=["member.joined"])
    inactive = _create(client, headers).json
    client.patch(f"/v1/webhook-endpoints/{inactive['id']}", headers=headers, json={"isActive": False})
    _create(client, operator_headers(uuid.uuid4()))  # another operator's
    event = {
        "id": "evt_" + uuid.uuid4().hex[:24],
        "type": "purchase.paid",
        "operatorId": str(operator_id),
        "createdAt": "2026-12-01T10:00:00.123Z",
        "data": {"id": "p1", "totalCents": 500},
    }
    assert client.post("/internal/events", json=event).status_code == 401
    taken = client.post("/internal/events", headers=SERVICE, json=event)
    assert taken.status_code == 201 and taken.json == {"id": event["id"], "deliveries": 2}
    again = client.post("/internal/events", headers=SERVICE, json=event)
    assert again.status_code == 200 and again.json == {"id": event["id"], "deliveries": 0}
    rows = db_session.execute(
        text("SELECT endpoint_id::text FROM deliveries WHERE event_id = :id ORDER BY 1"), {"id": event["id"]}
    ).scalars()
    assert list(rows) == sorted([paid["id"], both["id"]])
    body = db_session.execute(text("SELECT body FROM events WHERE id = :id"), {"id": event["id"]}).scalar()
    assert body == (
        f'{{"id":"{event["id"]}","type":"purchase.paid","createdAt":"2026-12-01T10:00:00.123Z",'
        '"data":{"id":"p1","totalCents":500}}'
    )
    waiting = client.get(f"/v1/webhook-endpoints/{paid['id']}/deliveries", headers=headers)
    assert waiting.status_code == 200
    assert [(d["eventId"], d["type"], d["attempt"], d["statusCode"]) for d in waiting.json] == [
        (event["id"], "purchase.paid", 0, None)
    ]


@pytest.mark.parametrize(
    "change",
    [{"type": "purchase.shipped"}, {"id": "nope"}, {"operatorId": "x"}, {"createdAt": "2026-12-01T10:00:00"}],
)
def test_the_intake_refuses_malformed_events(client, change):
    event = {
        "id": "evt_" + uuid.uuid4().hex[:24],
        "type": "member.joined",
        "operatorId": str(uuid.uuid4()),
        "createdAt": "2026-12-01T10:00:00Z",
        "data": {},
        **change,
    }
    assert client.post("/internal/events", headers=SERVICE, json=event).status_code == 422
