"""purchase.paid and purchase.refunded (design §12) written into commerce's outbox in the transaction that makes the
purchase so, on every path: a free checkout, Stripe's webhook, the operator's refund — and never twice."""

import uuid

from sqlalchemy import select

from commerce_service.models import OutboxMessage
from devstack import stripe_events
from services.commerce.tests.test_purchases_api import _checkout, _webhook


def _events(db_session, purchase_id):
    messages = db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "webhooks.event").order_by(OutboxMessage.id)
    ).all()
    return [m.payload for m in messages if m.payload["data"]["id"] == purchase_id]


def test_a_paid_purchase_writes_its_event_once(client, db_session, shop, operator, operator_id):
    purchase = _checkout(client, shop).json
    assert _events(db_session, purchase["id"]) == []  # pending: no event
    _webhook(client, stripe_events.intent_event("payment_intent.succeeded", purchase))
    _webhook(client, stripe_events.intent_event("payment_intent.succeeded", purchase))  # another event, no move
    (event,) = _events(db_session, purchase["id"])
    detail = client.get(f"/v1/purchases/{purchase['id']}", headers=operator).json
    assert event["type"] == "purchase.paid" and event["operatorId"] == str(operator_id)
    assert event["id"].startswith("evt_") and len(event["id"]) == 28
    assert event["data"] == detail
    assert event["createdAt"].endswith("Z")


def test_a_failed_payment_writes_nothing(client, db_session, shop):
    purchase = _checkout(client, shop).json
    _webhook(client, stripe_events.intent_event("payment_intent.payment_failed", purchase))
    assert _events(db_session, purchase["id"]) == []


def test_a_free_purchase_is_paid_with_its_event_and_a_refund_writes_another(client, db_session, shop, operator):
    client.post(
        "/v1/pricing/rules", json={"pricePerPhotoCents": 0, "projectId": str(shop.project.id)}, headers=operator
    )
    purchase = _checkout(client, shop).json
    assert purchase["status"] == "paid"
    (paid,) = _events(db_session, purchase["id"])
    assert paid["type"] == "purchase.paid"
    assert paid["data"] == client.get(f"/v1/purchases/{purchase['id']}", headers=operator).json
    refunded = client.post(f"/v1/purchases/{purchase['id']}/refund", headers=operator, json={})
    assert refunded.status_code == 200, refunded.json
    _, event = _events(db_session, purchase["id"])
    assert event["type"] == "purchase.refunded"
    assert event["createdAt"] == refunded.json["refundedAt"]
    assert event["data"] == {k: v for k, v in refunded.json.items() if k != "refundedAt"}
    assert event["data"] == client.get(f"/v1/purchases/{purchase['id']}", headers=operator).json
    assert uuid.UUID(event["data"]["id"]) and event["id"] != paid["id"]


def test_a_refund_from_stripe_writes_the_refunded_event(client, db_session, shop):
    purchase = _checkout(client, shop).json
    _webhook(client, stripe_events.intent_event("payment_intent.succeeded", purchase))
    _webhook(client, stripe_events.refund_event(purchase))
    assert [e["type"] for e in _events(db_session, purchase["id"])] == ["purchase.paid", "purchase.refunded"]


def test_a_refund_of_a_purchase_never_paid_here_writes_no_event(client, db_session, shop):
    """Stripe's charge.refunded before its payment_intent.succeeded (pending → refunded), or after a failure
    (failed → refunded): receivers never got a purchase.paid, so no purchase.refunded either; the late
    succeeded event moves nothing and writes nothing."""
    pending = _checkout(client, shop).json
    _webhook(client, stripe_events.refund_event(pending))
    _webhook(client, stripe_events.intent_event("payment_intent.succeeded", pending))
    assert _events(db_session, pending["id"]) == []
    failed = _checkout(client, shop).json
    _webhook(client, stripe_events.intent_event("payment_intent.payment_failed", failed))
    _webhook(client, stripe_events.refund_event(failed))
    assert _events(db_session, failed["id"]) == []
