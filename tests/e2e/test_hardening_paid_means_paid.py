"""Issue 9 item 5: a `payment_intent.succeeded` pays a purchase only when Stripe received exactly its total in
its currency. A mismatch leaves the purchase where it was, keeps the event (a redelivery stays a no-op), logs
an error, and answers 200 like every other event we don't act on (Stripe would only redeliver it)."""

import json
import time

import pytest
import requests
from sqlalchemy import text

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token
from devstack import stripe_events


def _one(databases, sql, **params):
    with databases["commerce"].connect() as connection:
        return connection.execute(text(sql), params).scalar()


@pytest.fixture
def pending(gw, stack, feed, ready_photos, operator, photographer, new_project):
    """A pending purchase of two photos at 400 (800 EUR cents, the operator's default currency)."""
    project = new_project(operator, type="public", status="live")
    assert gw.post("/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 400}).status_code == 201
    member = feed.participant()
    assert feed.join(project["id"], member).status_code == 201
    response = requests.post(
        f"{stack.service_url('commerce')}/internal/checkout",
        timeout=30,
        headers={"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'checkout-page')}"},
        json={
            "projectId": project["id"],
            "participant": member,
            "photoIds": ready_photos(project["id"], photographer.id, 2),
        },
    )
    assert response.status_code == 201, response.text
    purchase = response.json()
    assert (purchase["status"], purchase["totalCents"]) == ("pending", 800)
    return purchase


def _error_lines(stack, event_id, timeout=10.0):
    """The commerce log's error lines about ``event_id`` (waited for: gunicorn's workers write them)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [
            json.loads(line)
            for line in (stack.workdir / "logs" / "commerce.log").read_text(errors="replace").splitlines()
            if event_id in line and line.startswith("{")
        ]
        errors = [line for line in lines if line.get("level") in ("ERROR", "error")]
        if errors or time.monotonic() > deadline:
            return errors
        time.sleep(0.1)


@pytest.mark.parametrize(
    "mismatch",
    [
        {"amount_received": 1},
        {"amount_received": 799},
        {"amount_received": 8000},
        {"currency": "usd"},
        {"amount_received": None},
        {"currency": None},
    ],
)
def test_a_payment_of_another_amount_or_currency_does_not_pay(
    gw, stack, databases, operator, stripe_webhook, pending, mismatch
):
    event = stripe_events.intent_event("payment_intent.succeeded", pending)
    event["data"]["object"].update(mismatch)
    response = stripe_webhook(event)
    assert response.status_code == 200 and response.json() == {"received": True}
    assert gw.get(f"/v1/purchases/{pending['id']}", token=operator.token).json()["status"] == "pending"
    assert (
        _one(databases, "SELECT type FROM stripe_events WHERE id = :id", id=event["id"]) == "payment_intent.succeeded"
    )
    [line] = _error_lines(stack, event["id"])
    assert line["purchase_id"] == pending["id"] and line["total_cents"] == 800
    assert "does not match" in line["message"]
    # The redelivery of that event is a no-op; the right payment still pays.
    assert stripe_webhook(event).status_code == 200
    assert gw.get(f"/v1/purchases/{pending['id']}", token=operator.token).json()["status"] == "pending"
    assert stripe_webhook(stripe_events.intent_event("payment_intent.succeeded", pending)).status_code == 200
    assert gw.get(f"/v1/purchases/{pending['id']}", token=operator.token).json()["status"] == "paid"


def test_a_failed_purchase_is_not_paid_by_a_short_payment(gw, stack, operator, stripe_webhook, pending):
    assert stripe_webhook(stripe_events.intent_event("payment_intent.payment_failed", pending)).status_code == 200
    short = stripe_events.intent_event("payment_intent.succeeded", pending, amount_received=50)
    assert stripe_webhook(short).status_code == 200
    assert gw.get(f"/v1/purchases/{pending['id']}", token=operator.token).json()["status"] == "failed"
    assert _error_lines(stack, short["id"])


def test_currency_is_compared_ignoring_case(gw, operator, stripe_webhook, pending):
    assert (
        stripe_webhook(stripe_events.intent_event("payment_intent.succeeded", pending, currency="EUR")).status_code
        == 200
    )
    assert gw.get(f"/v1/purchases/{pending['id']}", token=operator.token).json()["status"] == "paid"
