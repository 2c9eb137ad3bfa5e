"""The internal routes through the app: service tokens only, the quote's shape, and project deletion."""

import uuid

import pytest

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token

SERVICE = {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'checkout')}"}


def _quote_body(project_id, photo_ids=None, participant_id=None, **extra):
    return {
        "projectId": str(project_id),
        "participant": {"id": str(participant_id or uuid.uuid4()), "email": "p@example.com", "name": "Pat"},
        "photoIds": [str(photo) for photo in photo_ids or [uuid.uuid4() for _ in range(3)]],
        **extra,
    }


def test_quote(client, projects, operator, operator_id):
    project, member = projects.add(operator_id), uuid.uuid4()
    projects.add_member(project.id, member)
    photos = projects.add_photos(project.id, uuid.uuid4(), 3)
    body = _quote_body(project.id, photos, member)
    assert client.post("/internal/checkout/quote", json=body, headers=SERVICE).status_code == 409
    assert client.post("/v1/pricing/rules", json={"pricePerPhotoCents": 333}, headers=operator).status_code == 201
    discount = client.post(
        "/v1/discounts", json={"name": "Bundle", "type": "bundle", "value": 15, "bundleMinPhotos": 3}, headers=operator
    ).json
    assert (
        client.post(
            f"/v1/projects/{project.id}/discounts", json={"discountId": discount["id"]}, headers=operator
        ).status_code
        == 204
    )
    response = client.post("/internal/checkout/quote", json={**body, "promoCode": "NOPE"}, headers=SERVICE)
    assert response.status_code == 200
    # 999 × 15 % = 149.85 → 150 (half up)
    assert response.json == {
        "pricePerPhotoCents": 333,
        "subtotalCents": 999,
        "discountAppliedCents": 150,
        "totalCents": 849,
        "appliedPromoCode": None,
    }


def test_quote_refuses_what_checkout_refuses(client, projects, operator, operator_id):
    project, member = projects.add(operator_id), uuid.uuid4()
    projects.add_member(project.id, member)
    photos = projects.add_photos(project.id, uuid.uuid4(), 2)
    assert client.post("/v1/pricing/rules", json={"pricePerPhotoCents": 100}, headers=operator).status_code == 201
    missing = uuid.uuid4()
    for body in (_quote_body(project.id, [photos[0], missing], member), _quote_body(project.id, photos, uuid.uuid4())):
        quote = client.post("/internal/checkout/quote", json=body, headers=SERVICE)
        checkout = client.post("/internal/checkout", json=body, headers=SERVICE)
        assert (quote.status_code, quote.json) == (checkout.status_code, checkout.json)
        assert quote.status_code in (403, 422)


@pytest.mark.parametrize("photo_ids", [[uuid.UUID(int=1)] * 2, [uuid.uuid4() for _ in range(501)]])
def test_the_quote_refuses_the_photo_lists_checkout_refuses(client, photo_ids):
    """A repeated photo, or more than checkout's 500: the same 422, before anyone is asked about the project."""
    body = _quote_body(uuid.uuid4(), photo_ids)
    quote = client.post("/internal/checkout/quote", json=body, headers=SERVICE)
    checkout = client.post("/internal/checkout", json=body, headers=SERVICE)
    assert (quote.status_code, quote.json) == (checkout.status_code, checkout.json)
    assert quote.status_code == 422 and set(quote.json["errors"]["json"]) == {"photoIds"}


def test_quote_validation_and_unknown_project(client, projects):
    response = client.post(
        "/internal/checkout/quote", json={"projectId": "x", "photoIds": [], "extra": 1}, headers=SERVICE
    )
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"projectId", "photoIds", "participant", "extra"}
    assert client.post("/internal/checkout/quote", json=_quote_body(uuid.uuid4()), headers=SERVICE).status_code == 404


@pytest.mark.parametrize(
    "method, path", [("post", "/internal/checkout/quote"), ("delete", f"/internal/projects/{uuid.uuid4()}")]
)
def test_internal_routes_need_a_service_token(client, operator, method, path):
    for headers in ({}, operator):
        assert getattr(client, method)(path, json={}, headers=headers).status_code == 401


def test_project_deletion_is_idempotent(client, projects, operator, operator_id):
    project = projects.add(operator_id)
    assert (
        client.post(
            "/v1/pricing/rules", json={"pricePerPhotoCents": 1, "projectId": str(project.id)}, headers=operator
        ).status_code
        == 201
    )
    for _ in range(2):
        assert client.delete(f"/internal/projects/{project.id}", headers=SERVICE).status_code == 204
    assert client.get("/v1/pricing/rules", headers=operator).json == []
    assert client.get(f"/v1/projects/{project.id}/discounts", headers=operator).status_code == 404
