"""Issue 9 item 12: a checkout's Idempotency-Key replays its purchase for 24 hours (IDEMPOTENCY_KEY_TTL_S), as
Stripe's keys do; after that the key is free again and makes a new purchase. Time is moved by back-dating the
purchase holding the key in the database."""

import uuid

import pytest
import requests
from sqlalchemy import text

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token
from devstack import stripe_events


@pytest.fixture
def shop(gw, feed, ready_photos, operator, photographer, new_project):
    project = new_project(operator, type="public", status="live")
    assert gw.post("/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 400}).status_code == 201
    member = feed.participant()
    assert feed.join(project["id"], member).status_code == 201
    return type(
        "Shop", (), {"project": project, "member": member, "photos": ready_photos(project["id"], photographer.id, 3)}
    )


@pytest.fixture
def buy(stack, shop):
    key = f"checkout-page-{uuid.uuid4()}"

    def checkout(photos=2):
        return requests.post(
            f"{stack.service_url('commerce')}/internal/checkout",
            timeout=30,
            headers={
                "Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'checkout-page')}",
                "Idempotency-Key": key,
            },
            json={"projectId": shop.project["id"], "participant": shop.member, "photoIds": shop.photos[:photos]},
        )

    checkout.key = key
    return checkout


def _age(databases, purchase_id, interval):
    with databases["commerce"].begin() as connection:
        connection.execute(
            text("UPDATE purchases SET created_at = now() - CAST(:age AS interval) WHERE id = :id"),
            {"age": interval, "id": purchase_id},
        )


def _keyed(databases, shop):
    """{purchase id: its Idempotency-Key} for the member's purchases."""
    with databases["commerce"].connect() as connection:
        return dict(
            connection.execute(
                text("SELECT id::text, idempotency_key FROM purchases WHERE participant_id = :p"),
                {"p": shop.member["id"]},
            ).all()
        )


def test_within_24_hours_the_key_replays_after_them_it_buys_anew(gw, databases, operator, stripe_webhook, shop, buy):
    first = buy()
    assert first.status_code == 201, first.text
    # Paid, so the sweeper (which settles back-dated pending purchases) leaves it alone.
    assert stripe_webhook(stripe_events.intent_event("payment_intent.succeeded", first.json())).status_code == 200
    _age(databases, first.json()["id"], "23 hours 59 minutes")
    repeat = buy()
    assert repeat.status_code == 200, repeat.text
    assert (repeat.json()["id"], repeat.json()["status"]) == (first.json()["id"], "paid")
    assert _keyed(databases, shop) == {first.json()["id"]: buy.key}

    _age(databases, first.json()["id"], "24 hours 1 minute")
    fresh = buy()
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["id"] != first.json()["id"]
    assert (fresh.json()["status"], fresh.json()["totalCents"]) == ("pending", 800) and fresh.json()["clientSecret"]
    # The old purchase is untouched but for its key; the key now names the new one, which it replays.
    assert _keyed(databases, shop) == {first.json()["id"]: None, fresh.json()["id"]: buy.key}
    assert gw.get(f"/v1/purchases/{first.json()['id']}", token=operator.token).json()["status"] == "paid"
    again = buy()
    assert again.status_code == 200 and again.json()["id"] == fresh.json()["id"]


def test_an_expired_key_may_name_another_checkout(databases, stripe_webhook, shop, buy):
    first = buy(photos=2)
    assert first.status_code == 201, first.text
    assert stripe_webhook(stripe_events.intent_event("payment_intent.succeeded", first.json())).status_code == 200
    other = buy(photos=3)
    assert other.status_code == 409
    assert other.json()["message"] == "This Idempotency-Key was used for a different checkout."
    _age(databases, first.json()["id"], "25 hours")
    other = buy(photos=3)
    assert other.status_code == 201, other.text
    assert other.json()["photoCount"] == 3
    assert sorted(_keyed(databases, shop).values(), key=str) == [None, buy.key]
