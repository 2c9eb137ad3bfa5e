"""Issue 9 item 3: the quote refuses what checkout refuses — photo ids that don't exist, belong to another
project or are not ready (and a stranger, an unknown project) — with the same status and the same body,
and writes nothing."""

import uuid

import pytest
import requests
from sqlalchemy import text

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token


def _headers():
    return {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'checkout-page')}"}


@pytest.fixture
def shop(gw, feed, ready_photos, operator, photographer, new_project):
    """A public live project at 250 a photo, a member, two ready photos and one still uploading; and a ready
    photo of another project of the same operator."""
    project = new_project(operator, type="public", status="live")
    assert gw.post("/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 250}).status_code == 201
    member = feed.participant()
    assert feed.join(project["id"], member).status_code == 201
    elsewhere = new_project(operator, type="public", status="live")
    return type(
        "Shop",
        (),
        {
            "project": project,
            "member": member,
            "photos": ready_photos(project["id"], photographer.id, 2),
            "pending": ready_photos(project["id"], photographer.id, 1, status="pending")[0],
            "foreign": ready_photos(elsewhere["id"], photographer.id, 1)[0],
        },
    )


def _both(stack, shop, *, photo_ids, participant=None, project_id=None):
    """The quote's answer and checkout's to the same body."""
    body = {
        "projectId": project_id or shop.project["id"],
        "participant": participant or shop.member,
        "photoIds": photo_ids,
    }
    base = f"{stack.service_url('commerce')}/internal/checkout"
    return (
        requests.post(f"{base}/quote", headers=_headers(), json=body, timeout=30),
        requests.post(base, headers=_headers(), json=body, timeout=30),
    )


def _purchases(databases, operator) -> int:
    with databases["commerce"].connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM purchases WHERE operator_id = :o"), {"o": operator.id}
        ).scalar()


@pytest.mark.parametrize("kind", ["unknown", "foreign", "pending", "all three"])
def test_photos_checkout_would_refuse_are_refused_by_the_quote_alike(stack, databases, operator, shop, kind):
    unknown = str(uuid.uuid4())
    wrong = {
        "unknown": [unknown],
        "foreign": [shop.foreign],
        "pending": [shop.pending],
        "all three": [unknown, shop.foreign, shop.pending],
    }[kind]
    quote, checkout = _both(stack, shop, photo_ids=[shop.photos[0], *wrong])
    assert quote.status_code == checkout.status_code == 422
    assert (
        quote.json()
        == checkout.json()
        == {
            "code": 422,
            "status": "Unprocessable Entity",
            "message": "The request is invalid.",
            "errors": {"json": {"photoIds": [f"Not ready photos of this project: {', '.join(sorted(wrong))}"]}},
        }
    )
    assert _purchases(databases, operator) == 0


def test_a_stranger_and_an_unknown_project_are_refused_alike(stack, databases, feed, operator, shop):
    stranger = feed.participant()
    quote, checkout = _both(stack, shop, photo_ids=shop.photos, participant=stranger)
    assert quote.status_code == checkout.status_code == 403
    assert quote.json() == checkout.json()
    quote, checkout = _both(stack, shop, photo_ids=shop.photos, project_id=str(uuid.uuid4()))
    assert quote.status_code == checkout.status_code == 404
    assert (
        quote.json()
        == checkout.json()
        == {"code": 404, "status": "Not Found", "message": "Project not found.", "errors": {}}
    )
    assert _purchases(databases, operator) == 0


def test_ready_photos_of_the_project_are_quoted_as_checkout_charges_them(stack, shop):
    quote, checkout = _both(stack, shop, photo_ids=shop.photos)
    assert quote.status_code == 200 and checkout.status_code == 201, (quote.text, checkout.text)
    assert quote.json() == {
        "pricePerPhotoCents": 250,
        "subtotalCents": 500,
        "discountAppliedCents": 0,
        "totalCents": 500,
        "appliedPromoCode": None,
    }
    assert (checkout.json()["subtotalCents"], checkout.json()["totalCents"]) == (500, 500)


def test_projects_down_is_503_for_the_quote(stack, shop):
    stack.stop_service("projects")
    try:
        quote = requests.post(
            f"{stack.service_url('commerce')}/internal/checkout/quote",
            headers=_headers(),
            timeout=30,
            json={"projectId": shop.project["id"], "participant": shop.member, "photoIds": shop.photos},
        )
    finally:
        stack.start_service("projects")
    assert quote.status_code == 503 and quote.json()["code"] == 503
