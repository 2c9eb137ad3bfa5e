"""Checkout, Stripe webhooks, the operator's purchases and the analytics figures, through the app on real
PostgreSQL, the real projects and auth services over HTTP, and a real Stripe fake (localstripe)."""

import datetime as dt
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
import requests
import stripe
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token
from commerce_service.clients.auth import AuthClient
from commerce_service.clients.payments import Payments
from commerce_service.clients.projects import ProjectsClient
from commerce_service.discounts import rules as discounts
from commerce_service.models import (
    Discount,
    PricingRule,
    PromoCode,
    PromoCodeRedemption,
    Purchase,
    PurchaseItem,
    StripeEvent,
)
from commerce_service.pricing import rules as pricing_rules
from commerce_service.promo_codes import rules as promo_codes
from commerce_service.purchases import checkout as purchases
from devstack import stripe_events

STRIPE_WEBHOOK_SECRET = "whsec_unit_test_secret"  # what conftest gives the app
SERVICE = {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'checkout')}"}
ITEM_FIELDS = {
    "id",
    "status",
    "photoCount",
    "subtotalCents",
    "discountAppliedCents",
    "totalCents",
    "appliedPromoCode",
    "stripePaymentIntentId",
    "createdAt",
    "project",
    "user",
}


def _checkout(client, shop, photos=None, participant=None, headers=None, **extra):
    photos = shop.photos[:3] if photos is None else photos
    return client.post(
        "/internal/checkout",
        headers={**SERVICE, **(headers or {})},
        json={
            "projectId": str(shop.project.id),
            "participant": participant or shop.participant,
            "photoIds": [str(photo) for photo in photos],
            **extra,
        },
    )


def _promo(client, operator, code="SUMMER10", value=10, **limits):
    discount = client.post(
        "/v1/discounts", json={"name": code, "type": "percentage", "value": value}, headers=operator
    ).json
    response = client.post(
        "/v1/promo-codes", json={"code": code, "discountId": discount["id"], **limits}, headers=operator
    )
    assert response.status_code == 201, response.json
    return response.json


def _signed(event, secret=STRIPE_WEBHOOK_SECRET, timestamp=None):
    return stripe_events.signed(event, secret, timestamp)


def _webhook(client, event, **kw):
    payload, headers = _signed(event, **kw)
    return client.post("/v1/webhooks/stripe", data=payload, headers=headers)


def _refunded_at(db_session, purchase):
    return db_session.scalar(
        select(Purchase.refunded_at)
        .where(Purchase.id == uuid.UUID(purchase["id"]))
        .execution_options(populate_existing=True)
    )


def _status(db_session, purchase) -> str:
    return db_session.scalar(
        select(Purchase.status)
        .where(Purchase.id == uuid.UUID(purchase["id"]))
        .execution_options(populate_existing=True)
    )


class TestCheckout:
    def test_creates_a_pending_purchase_and_a_payment_intent(
        self, client, db_session, shop, stripe_api_base, auth, operator_id
    ):
        auth.add_operator(operator_id, currency="CHF")
        response = _checkout(client, shop)
        assert response.status_code == 201, response.json
        body = response.json
        assert set(body) == ITEM_FIELDS | {"downloads", "clientSecret"}
        assert (
            body["status"],
            body["photoCount"],
            body["subtotalCents"],
            body["discountAppliedCents"],
            body["totalCents"],
            body["appliedPromoCode"],
        ) == ("pending", 3, 1500, 0, 1500, None)
        assert body["project"] == {"id": str(shop.project.id), "name": "Summer Gala"}
        assert body["user"] == shop.participant
        assert sorted(d["photoId"] for d in body["downloads"]) == sorted(str(p) for p in shop.photos[:3])
        assert body["stripePaymentIntentId"].startswith("pi_") and body["clientSecret"].startswith(
            body["stripePaymentIntentId"]
        )
        intent = requests.get(
            f"{stripe_api_base}/v1/payment_intents/{body['stripePaymentIntentId']}",
            auth=("sk_test_unit", ""),
            timeout=5,
        ).json()
        assert (intent["amount"], intent["currency"], intent["metadata"]) == (1500, "chf", {"purchase_id": body["id"]})
        purchase = db_session.get(Purchase, uuid.UUID(body["id"]))
        assert (purchase.currency, purchase.price_per_photo_cents, purchase.project_name) == ("CHF", 500, "Summer Gala")

    def test_items_carry_photographers_and_shares_summing_to_the_total(self, client, db_session, shop, operator):
        client.post(
            "/v1/pricing/rules", json={"pricePerPhotoCents": 333, "projectId": str(shop.project.id)}, headers=operator
        )
        _promo(client, operator, value=10)
        body = _checkout(client, shop, photos=shop.photos, promoCode="summer10").json
        assert (body["subtotalCents"], body["discountAppliedCents"], body["totalCents"]) == (1665, 167, 1498)
        items = db_session.scalars(select(PurchaseItem).where(PurchaseItem.purchase_id == uuid.UUID(body["id"]))).all()
        assert sum(item.share_cents for item in items) == 1498
        assert sorted(item.share_cents for item in items) == [299, 299, 300, 300, 300]
        assert {item.photo_id: item.photographer_id for item in items} == {
            photo: (shop.alice if i < 3 else shop.bob) for i, photo in enumerate(shop.photos)
        }

    def test_free_checkout_is_paid_at_once_without_a_payment_intent(self, client, shop, operator):
        client.post(
            "/v1/pricing/rules", json={"pricePerPhotoCents": 0, "projectId": str(shop.project.id)}, headers=operator
        )
        body = _checkout(client, shop).json
        assert (body["status"], body["totalCents"], body["stripePaymentIntentId"], body["clientSecret"]) == (
            "paid",
            0,
            None,
            None,
        )

    def test_a_total_stripe_would_refuse_is_409_and_writes_nothing(self, client, db_session, shop, operator):
        discount = client.post(
            "/v1/discounts", json={"name": "Almost free", "type": "fixed", "value": 1460}, headers=operator
        ).json
        assert (
            client.post(
                f"/v1/projects/{shop.project.id}/discounts", json={"discountId": discount["id"]}, headers=operator
            ).status_code
            == 204
        )
        response = _checkout(client, shop)  # 3 × 500 − 1460 = 40 cents
        assert response.status_code == 409
        assert "minimum of 50" in response.json["message"]
        assert db_session.scalar(select(func.count()).select_from(Purchase)) == 0

    def test_promo_code_use_is_taken_and_counted_per_participant(self, client, db_session, shop, operator):
        code = _promo(client, operator, maxUsesPerUser=1)
        first = _checkout(client, shop, promoCode=" summer10 ").json
        assert first["appliedPromoCode"] == "SUMMER10" and first["discountAppliedCents"] == 150
        second = _checkout(client, shop, promoCode="SUMMER10").json
        assert second["appliedPromoCode"] is None and second["totalCents"] == 1500
        assert db_session.get(PromoCode, uuid.UUID(code["id"]), populate_existing=True).times_used == 1
        redemptions = db_session.scalars(select(PromoCodeRedemption)).all()
        assert [(r.purchase_id, r.participant_id) for r in redemptions] == [
            (uuid.UUID(first["id"]), uuid.UUID(shop.participant["id"]))
        ]

    def test_refusals(self, client, projects, shop, operator_id):
        unknown = client.post(
            "/internal/checkout",
            headers=SERVICE,
            json={"projectId": str(uuid.uuid4()), "participant": shop.participant, "photoIds": [str(shop.photos[0])]},
        )
        assert unknown.status_code == 404
        stranger = {**shop.participant, "id": str(uuid.uuid4())}
        assert _checkout(client, shop, participant=stranger).status_code == 403
        foreign = projects.add_photos(projects.add(operator_id).id, shop.alice, 1)[0]
        missing = uuid.uuid4()
        bad = _checkout(client, shop, photos=[shop.photos[0], foreign, missing])
        assert bad.status_code == 422
        assert bad.json["errors"] == {
            "json": {
                "photoIds": [f"Not ready photos of this project: {', '.join(sorted([str(foreign), str(missing)]))}"]
            }
        }
        for status, code in (("draft", 409), ("archived", 409), ("closed", 201)):  # a closed one: its members buy
            project = projects.add(operator_id, status=status)
            projects.add_member(project.id, uuid.UUID(shop.participant["id"]))
            photo = projects.add_photos(project.id, shop.alice)[0]
            response = client.post(
                "/internal/checkout",
                headers=SERVICE,
                json={"projectId": str(project.id), "participant": shop.participant, "photoIds": [str(photo)]},
            )
            assert response.status_code == code, response.json
            assert code == 201 or f"this one is {status}" in response.json["message"]

    def test_no_price_is_409(self, client, db_session, projects, auth, shop):
        other_operator = uuid.uuid4()
        auth.add_operator(other_operator)
        other_operator_project = projects.add(other_operator)
        projects.add_member(other_operator_project.id, uuid.UUID(shop.participant["id"]))
        photo = projects.add_photos(other_operator_project.id, shop.alice)[0]
        response = client.post(
            "/internal/checkout",
            headers=SERVICE,
            json={
                "projectId": str(other_operator_project.id),
                "participant": shop.participant,
                "photoIds": [str(photo)],
            },
        )
        assert response.status_code == 409 and "No price applies" in response.json["message"]
        assert db_session.scalar(select(func.count()).select_from(Purchase)) == 0

    @pytest.mark.parametrize(
        "photo_ids, message",
        [
            ([], "Length must be between 1 and 500."),
            (["same", "same"], "Must not repeat a photo."),
            (["not-a-uuid"], None),
            (["many"] * 501, "Length must be between 1 and 500."),
        ],
    )
    def test_photo_ids_validation(self, client, shop, photo_ids, message):
        same = str(uuid.uuid4())
        photo_ids = [same if p == "same" else str(uuid.uuid4()) if p == "many" else p for p in photo_ids]
        response = client.post(
            "/internal/checkout",
            headers=SERVICE,
            json={"projectId": str(shop.project.id), "participant": shop.participant, "photoIds": photo_ids},
        )
        assert response.status_code == 422
        assert "photoIds" in response.json["errors"]["json"]
        if message:
            assert response.json["errors"]["json"]["photoIds"] == [message]

    def test_stripe_down_is_503_and_leaves_nothing_pending(self, app, provided, client, db_session, shop, operator):
        code = _promo(client, operator)
        payments = provided(Payments)
        working = payments.client
        payments.client = stripe.StripeClient(
            "sk_test_unit", base_addresses={"api": "http://127.0.0.1:9"}, max_network_retries=0
        )
        try:
            response = _checkout(client, shop, promoCode="SUMMER10")
        finally:
            payments.client = working
        assert response.status_code == 503
        assert response.json["message"] == "The payment provider is unavailable; try again shortly."
        assert db_session.scalars(select(Purchase.status)).all() == ["failed"]
        assert db_session.get(PromoCode, uuid.UUID(code["id"]), populate_existing=True).times_used == 0
        assert db_session.scalar(select(func.count()).select_from(PromoCodeRedemption)) == 0

    def test_needs_a_service_token(self, client, operator, shop):
        for headers in ({}, operator):
            assert client.post("/internal/checkout", json={}, headers=headers).status_code == 401
            assert client.post("/internal/stats", json={}, headers=headers).status_code == 401


class TestWebhooks:
    def test_moves_a_purchase_through_its_life_once_per_event(self, client, db_session, shop):
        purchase = _checkout(client, shop).json
        succeeded = stripe_events.intent_event("payment_intent.succeeded", purchase)
        response = _webhook(client, succeeded)
        assert response.status_code == 200 and response.json == {"received": True}
        assert _status(db_session, purchase) == "paid"
        refund = stripe_events.refund_event(purchase)
        assert _webhook(client, refund).status_code == 200
        assert _status(db_session, purchase) == "refunded"
        # The same events again (redelivery), or late ones, change nothing.
        for event in (
            succeeded,
            stripe_events.intent_event("payment_intent.succeeded", purchase),
            stripe_events.intent_event("payment_intent.payment_failed", purchase),
        ):
            assert _webhook(client, event).status_code == 200
            assert _status(db_session, purchase) == "refunded"
        assert db_session.scalar(select(func.count()).select_from(StripeEvent)) == 4

    def test_duplicate_event_id_is_applied_once(self, client, db_session, shop, operator):
        code = _promo(client, operator)
        purchase = _checkout(client, shop, promoCode="SUMMER10").json
        failed = stripe_events.intent_event("payment_intent.payment_failed", purchase, event_id="evt_once")
        assert _webhook(client, failed).status_code == 200
        assert _status(db_session, purchase) == "failed"
        assert db_session.get(PromoCode, uuid.UUID(code["id"]), populate_existing=True).times_used == 0
        # failed → paid takes the use back; the repeated failure (same id) does not give it back again.
        assert _webhook(client, stripe_events.intent_event("payment_intent.succeeded", purchase)).status_code == 200
        assert _webhook(client, failed).status_code == 200
        assert _status(db_session, purchase) == "paid"
        assert db_session.get(PromoCode, uuid.UUID(code["id"]), populate_existing=True).times_used == 1
        assert db_session.scalar(select(func.count()).select_from(PromoCodeRedemption)) == 1

    def test_payment_failure_gives_the_promo_code_use_back(self, client, db_session, shop, operator):
        code = _promo(client, operator, maxUses=1)
        purchase = _checkout(client, shop, promoCode="SUMMER10").json
        assert _checkout(client, shop, promoCode="SUMMER10").json["appliedPromoCode"] is None  # used up
        _webhook(client, stripe_events.intent_event("payment_intent.payment_failed", purchase))
        assert db_session.get(PromoCode, uuid.UUID(code["id"]), populate_existing=True).times_used == 0
        assert _checkout(client, shop, promoCode="SUMMER10").json["appliedPromoCode"] == "SUMMER10"

    def test_refund_only_in_full(self, client, db_session, shop):
        purchase = _checkout(client, shop).json
        _webhook(client, stripe_events.intent_event("payment_intent.succeeded", purchase))
        _webhook(client, stripe_events.refund_event(purchase, refunded=False))
        assert _status(db_session, purchase) == "paid"
        assert _refunded_at(db_session, purchase) is None
        _webhook(client, stripe_events.refund_event(purchase))
        assert _status(db_session, purchase) == "refunded"
        # Refunded at Stripe (its dashboard, say): the moment is the one the event was applied.
        assert _refunded_at(db_session, purchase) is not None

    def test_a_refund_before_the_payment_event_wins(self, client, db_session, shop):
        purchase = _checkout(client, shop).json
        _webhook(client, stripe_events.refund_event(purchase))
        assert _status(db_session, purchase) == "refunded"
        _webhook(client, stripe_events.intent_event("payment_intent.succeeded", purchase))
        assert _status(db_session, purchase) == "refunded"

    def test_found_by_metadata_when_the_intent_id_was_never_stored(self, client, db_session, shop):
        purchase = _checkout(client, shop).json
        db_session.get(Purchase, uuid.UUID(purchase["id"])).stripe_payment_intent_id = None
        db_session.flush()
        _webhook(client, stripe_events.intent_event("payment_intent.succeeded", purchase))
        stored = db_session.get(Purchase, uuid.UUID(purchase["id"]), populate_existing=True)
        assert (stored.status, stored.stripe_payment_intent_id) == ("paid", purchase["stripePaymentIntentId"])

    def test_a_refused_event_found_by_metadata_leaves_the_intent_unbound(self, client, db_session, shop):
        """A succeeded intent for another amount is refused: the purchase neither moves nor takes the intent."""
        purchase = _checkout(client, shop).json
        db_session.get(Purchase, uuid.UUID(purchase["id"])).stripe_payment_intent_id = None
        db_session.flush()
        short = stripe_events.intent_event("payment_intent.succeeded", purchase, amount_received=1)
        assert _webhook(client, short).status_code == 200
        stored = db_session.get(Purchase, uuid.UUID(purchase["id"]), populate_existing=True)
        assert (stored.status, stored.stripe_payment_intent_id) == ("pending", None)

    def test_unknown_events_and_intents_are_200(self, client, db_session, shop):
        assert _webhook(client, stripe_events.event("customer.created", {"id": "cus_1"})).status_code == 200
        assert _webhook(client, stripe_events.event("payment_intent.succeeded", {"id": "pi_nobody"})).status_code == 200

    @pytest.mark.parametrize("case", ["missing", "wrong secret", "tampered", "stale", "not json"])
    def test_bad_signatures_are_400(self, client, db_session, shop, case):
        purchase = _checkout(client, shop).json
        event = stripe_events.intent_event("payment_intent.succeeded", purchase)
        payload, headers = _signed(
            event,
            secret="whsec_other" if case == "wrong secret" else STRIPE_WEBHOOK_SECRET,
            timestamp=int(time.time()) - 3600 if case == "stale" else None,
        )
        if case == "missing":
            headers.pop("Stripe-Signature")
        if case == "tampered":
            payload = payload.replace("payment_intent.succeeded", "payment_intent.payment_failed")
        if case == "not json":
            payload, headers = _signed(event)
            payload = "nope"
            timestamp = headers["Stripe-Signature"].split(",")[0][2:]
            headers["Stripe-Signature"] = f"t={timestamp},v1=" + stripe.WebhookSignature._compute_signature(
                f"{timestamp}.nope", STRIPE_WEBHOOK_SECRET
            )
        response = client.post("/v1/webhooks/stripe", data=payload, headers=headers)
        assert response.status_code == 400
        assert set(response.json) == {"code", "status", "message", "errors"} and response.json["code"] == 400
        assert _status(db_session, purchase) == "pending"
        assert db_session.scalar(select(func.count()).select_from(StripeEvent)) == 0


class TestOperatorViews:
    def test_list_detail_and_tenancy(self, client, db_session, projects, shop, operator, make_token):
        first = _checkout(client, shop).json
        second = _checkout(client, shop, photos=shop.photos[3:]).json
        listed = client.get("/v1/purchases", headers=operator)
        assert listed.status_code == 200
        assert listed.json["total"] == 2 and (listed.json["page"], listed.json["limit"]) == (1, 50)
        assert [item["id"] for item in listed.json["items"]] == sorted(
            [first["id"], second["id"]], reverse=True
        )  # same created_at (one test transaction): id decides
        assert all(set(item) == ITEM_FIELDS for item in listed.json["items"])
        projects.rename(shop.project.id, "Winter Ball")
        # The client forgot the project's name (as a rename here makes it): the kept page asks for it again.
        assert client.get("/v1/purchases", headers=operator).json["items"][0]["project"]["name"] == "Winter Ball"
        detail = client.get(f"/v1/purchases/{first['id']}", headers=operator)
        assert detail.status_code == 200
        assert detail.json == {
            **{k: v for k, v in first.items() if k != "clientSecret"},
            "project": {"id": str(shop.project.id), "name": "Winter Ball"},
        }
        # projects down, or the project deleted: the name the purchase was made under.
        projects.down = True
        assert client.get(f"/v1/purchases/{first['id']}", headers=operator).json["project"]["name"] == "Summer Gala"
        projects.down = False
        projects.delete(shop.project.id)
        assert client.get("/v1/purchases", headers=operator).json["items"][0]["project"]["name"] == "Summer Gala"

        other = {"Authorization": f"Bearer {make_token()}"}
        assert client.get("/v1/purchases", headers=other).json == {"items": [], "total": 0, "page": 1, "limit": 50}
        assert client.get(f"/v1/purchases/{first['id']}", headers=other).status_code == 403
        assert client.get(f"/v1/purchases/{uuid.uuid4()}", headers=operator).status_code == 404
        photographer = {"Authorization": f"Bearer {make_token(role='photographer')}"}
        assert client.get("/v1/purchases", headers=photographer).status_code == 403
        assert client.get("/v1/purchases").status_code == 401

    def test_pages_and_filters(self, client, db_session, projects, shop, operator, operator_id):
        made = [_checkout(client, shop, photos=[photo]).json for photo in shop.photos]
        for purchase in made[:2]:
            _webhook(client, stripe_events.intent_event("payment_intent.succeeded", purchase))
        other_project = projects.add(operator_id, name="Other")
        projects.add_member(other_project.id, uuid.UUID(shop.participant["id"]))
        elsewhere = _checkout(
            client,
            type("S", (), {"project": other_project, "participant": shop.participant}),
            photos=projects.add_photos(other_project.id, shop.alice),
        ).json
        newest_first = sorted([p["id"] for p in made] + [elsewhere["id"]], reverse=True)
        page2 = client.get("/v1/purchases?page=2&limit=4", headers=operator).json
        assert (page2["total"], page2["page"], page2["limit"]) == (6, 2, 4)
        assert [item["id"] for item in page2["items"]] == newest_first[4:]
        assert client.get("/v1/purchases?page=3&limit=4", headers=operator).json["items"] == []
        paid = client.get("/v1/purchases?status=paid", headers=operator).json
        assert sorted(item["id"] for item in paid["items"]) == sorted(p["id"] for p in made[:2])
        assert paid["total"] == 2
        in_project = client.get(f"/v1/purchases?projectId={other_project.id}", headers=operator).json
        assert [item["id"] for item in in_project["items"]] == [elsewhere["id"]]
        both = client.get(f"/v1/purchases?projectId={shop.project.id}&status=pending", headers=operator).json
        assert both["total"] == 3

    @pytest.mark.parametrize(
        "query, field",
        [
            ("page=0", "page"),
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=x", "limit"),
            ("projectId=nope", "projectId"),
            ("status=shipped", "status"),
        ],
    )
    def test_bad_queries_are_422(self, client, operator, query, field):
        response = client.get(f"/v1/purchases?{query}", headers=operator)
        assert response.status_code == 422
        assert list(response.json["errors"]["query"]) == [field]

    def test_a_list_is_a_constant_number_of_statements(self, app, client, db_session, shop, operator):
        from sqlalchemy import event

        for photo in shop.photos:
            _checkout(client, shop, photos=[photo])
        engine = app.extensions["database"].engine
        counts = []
        for limit in (1, 1, 5, 5):  # each page answered, then (unchanged) answered again
            statements = []
            listener = lambda *args, statements=statements: statements.append(args[2])  # noqa: E731
            event.listen(engine, "before_cursor_execute", listener)
            try:
                assert len(client.get(f"/v1/purchases?limit={limit}", headers=operator).json["items"]) == limit
            finally:
                event.remove(engine, "before_cursor_execute", listener)
            counts.append(len([s for s in statements if "purchases" in s]))
        # The rows' fingerprint; then, nothing kept yet, the fingerprint, the total and the page in one snapshot;
        # unchanged, the fingerprint alone (backoffice_common.answers).
        assert counts == [4, 1, 4, 1]


class TestStats:
    def _ask(self, client, operator_id, project_ids, photographer_ids=None):
        body = {"operatorId": str(operator_id), "projectIds": [str(p) for p in project_ids]}
        if photographer_ids is not None:
            body["photographerIds"] = [str(p) for p in photographer_ids]
        response = client.post("/internal/stats", json=body, headers=SERVICE)
        assert response.status_code == 200, response.json
        return response.json

    def test_paid_purchases_only(self, client, db_session, projects, shop, operator_id, operator):
        participant2 = {"id": str(uuid.uuid4()), "email": "two@example.com", "name": "Two"}
        projects.add_member(shop.project.id, uuid.UUID(participant2["id"]))
        a = _checkout(client, shop, photos=shop.photos[:3]).json  # alice ×3: 1500
        b = _checkout(client, shop, photos=[shop.photos[0], shop.photos[3]], participant=participant2).json  # 1000
        c = _checkout(client, shop, photos=[shop.photos[4]]).json  # bob: 500, refunded
        d = _checkout(client, shop, photos=[shop.photos[1]]).json  # pending: never counts
        for purchase in (a, b, c):
            _webhook(client, stripe_events.intent_event("payment_intent.succeeded", purchase))
        _webhook(client, stripe_events.refund_event(c))
        other = projects.add(operator_id, name="Other")
        assert d["status"] == "pending"

        assert self._ask(client, operator_id, [shop.project.id, other.id]) == {
            "purchasesMade": 2,
            "revenueInCents": 2500,
            "buyers": 2,
            "projects": [{"projectId": str(shop.project.id), "purchasesMade": 2, "revenueInCents": 2500}],
        }
        assert self._ask(client, operator_id, [shop.project.id], [shop.bob]) == {
            "purchasesMade": 1,
            "revenueInCents": 500,
            "buyers": 1,
            "projects": [{"projectId": str(shop.project.id), "purchasesMade": 1, "revenueInCents": 500}],
        }
        assert self._ask(client, operator_id, [shop.project.id], [shop.alice, shop.bob])["revenueInCents"] == 2500
        assert self._ask(client, operator_id, [shop.project.id], [shop.alice]) == {
            "purchasesMade": 2,
            "revenueInCents": 2000,
            "buyers": 2,
            "projects": [{"projectId": str(shop.project.id), "purchasesMade": 2, "revenueInCents": 2000}],
        }
        empty = {"purchasesMade": 0, "revenueInCents": 0, "buyers": 0, "projects": []}
        assert self._ask(client, operator_id, [other.id]) == empty
        assert self._ask(client, operator_id, []) == empty
        assert self._ask(client, operator_id, [shop.project.id], []) == empty
        assert self._ask(client, uuid.uuid4(), [shop.project.id]) == empty

    def test_validation(self, client):
        response = client.post("/internal/stats", json={"operatorId": "x", "projectIds": ["y"]}, headers=SERVICE)
        assert response.status_code == 422
        assert set(response.json["errors"]["json"]) == {"operatorId", "projectIds"}


class TestIdempotencyKey:
    """``Idempotency-Key`` on checkout: a retry gets the same purchase (200), never a second one."""

    @staticmethod
    def _intents(stripe_api_base, purchase_id) -> list[dict]:
        """localstripe's PaymentIntents made for a purchase (it keeps them all; metadata names the purchase)."""
        found, after = [], None
        while True:
            page = requests.get(
                f"{stripe_api_base}/v1/payment_intents",
                auth=("sk_test_unit", ""),
                timeout=5,
                params={"limit": 100, **({"starting_after": after} if after else {})},
            ).json()
            found += [i for i in page["data"] if (i.get("metadata") or {}).get("purchase_id") == purchase_id]
            if not page["has_more"]:
                return found
            after = page["data"][-1]["id"]

    def test_a_repeat_answers_the_same_purchase_with_200(self, client, db_session, shop, operator, stripe_api_base):
        code = _promo(client, operator)
        key = {"Idempotency-Key": f"checkout-{uuid.uuid4()}"}
        first = client.post(
            "/internal/checkout",
            headers={**SERVICE, **key},
            json={
                "projectId": str(shop.project.id),
                "participant": shop.participant,
                "photoIds": [str(p) for p in shop.photos[:3]],
                "promoCode": " summer10 ",
            },
        )
        assert first.status_code == 201, first.json
        assert first.json["appliedPromoCode"] == "SUMMER10" and first.json["clientSecret"]
        # The same request: the photos in another order, the code written another way.
        repeat = client.post(
            "/internal/checkout",
            headers={**SERVICE, **key},
            json={
                "projectId": str(shop.project.id),
                "participant": shop.participant,
                "photoIds": [str(p) for p in reversed(shop.photos[:3])],
                "promoCode": "SUMMER10",
            },
        )
        assert repeat.status_code == 200, repeat.json
        assert repeat.json == first.json  # the same purchase, and the same client secret, asked of Stripe again
        assert db_session.scalar(select(func.count()).select_from(Purchase)) == 1
        assert len(self._intents(stripe_api_base, first.json["id"])) == 1
        assert db_session.get(PromoCode, uuid.UUID(code["id"]), populate_existing=True).times_used == 1
        assert db_session.scalar(select(func.count()).select_from(PromoCodeRedemption)) == 1
        stored = db_session.get(Purchase, uuid.UUID(first.json["id"]))
        assert (stored.idempotency_key, stored.requested_promo_code) == (key["Idempotency-Key"], "SUMMER10")

        # Once paid (or failed, refunded) there is nothing left to pay: no client secret.
        _webhook(client, stripe_events.intent_event("payment_intent.succeeded", first.json))
        paid = _checkout(client, shop, promoCode="summer10", headers=key)
        assert paid.status_code == 200
        assert paid.json == {**first.json, "status": "paid", "clientSecret": None}

    def test_a_free_purchase_and_an_unusable_code_repeat_too(self, client, db_session, projects, shop, operator):
        client.post(
            "/v1/pricing/rules", json={"pricePerPhotoCents": 0, "projectId": str(shop.project.id)}, headers=operator
        )
        key = {"Idempotency-Key": "k"}
        first = _checkout(client, shop, promoCode="NOSUCHCODE", headers=key)
        assert first.status_code == 201 and first.json["appliedPromoCode"] is None
        repeat = _checkout(client, shop, promoCode="nosuchcode", headers=key)
        assert (repeat.status_code, repeat.json) == (200, first.json)
        assert repeat.json["clientSecret"] is None
        # The key is the participant's: another participant's same key is another checkout.
        other = {"id": str(uuid.uuid4()), "email": "other@example.com", "name": "Other"}
        projects.add_member(shop.project.id, uuid.UUID(other["id"]))
        assert _checkout(client, shop, participant=other, promoCode="NOSUCHCODE", headers=key).status_code == 201
        assert db_session.scalar(select(func.count()).select_from(Purchase)) == 2

    @pytest.mark.parametrize("change", ["photos", "more photos", "promo code", "no promo code", "project"])
    def test_the_key_of_another_request_is_409_and_writes_nothing(
        self, client, db_session, projects, shop, operator, operator_id, change
    ):
        code = _promo(client, operator)
        _promo(client, operator, code="OTHER5", value=5)
        key = {"Idempotency-Key": "same-key"}
        first = _checkout(client, shop, promoCode="SUMMER10", headers=key)
        assert first.status_code == 201
        if change == "project":
            elsewhere = projects.add(operator_id)
            projects.add_member(elsewhere.id, uuid.UUID(shop.participant["id"]))
            photos = projects.add_photos(elsewhere.id, shop.alice, 3)
            other = type("S", (), {"project": elsewhere, "participant": shop.participant})
            response = _checkout(client, other, photos=photos, promoCode="SUMMER10", headers=key)
        else:
            response = _checkout(
                client,
                shop,
                headers=key,
                **{
                    "photos": {"photos": shop.photos[1:4], "more photos": shop.photos}.get(change),
                    "promoCode": {"promo code": "OTHER5", "no promo code": None}.get(change, "SUMMER10"),
                },
            )
        assert response.status_code == 409
        assert response.json["message"] == "This Idempotency-Key was used for a different checkout."
        assert db_session.scalar(select(func.count()).select_from(Purchase)) == 1
        assert db_session.get(PromoCode, uuid.UUID(code["id"]), populate_existing=True).times_used == 1
        assert db_session.scalar(select(func.count()).select_from(PromoCodeRedemption)) == 1

    @pytest.mark.parametrize(
        "value, message",
        [
            ("", "Length must be between 1 and 255."),
            ("k" * 256, "Length must be between 1 and 255."),
            ("clé", "Must be printable ASCII characters."),
            ("a\x01b", "Must be printable ASCII characters."),
        ],
    )
    def test_a_bad_key_is_422_and_writes_nothing(self, client, db_session, shop, value, message):
        response = _checkout(client, shop, headers={"Idempotency-Key": value})
        assert response.status_code == 422, response.json
        assert response.json["errors"] == {"headers": {"Idempotency-Key": [message]}}
        assert db_session.scalar(select(func.count()).select_from(Purchase)) == 0

    def test_the_longest_key_and_every_printable_character(self, client, shop):
        for key in ("k" * 255, "".join(chr(c) for c in range(0x21, 0x7F)) + " with spaces"):
            assert _checkout(client, shop, headers={"Idempotency-Key": key}).status_code == 201
            assert _checkout(client, shop, headers={"Idempotency-Key": key}).status_code == 200

    def test_a_checkout_stripe_failed_leaves_its_key_free_for_the_retry(self, app, provided, client, db_session, shop):
        payments = provided(Payments)
        working = payments.client
        payments.client = stripe.StripeClient(
            "sk_test_unit", base_addresses={"api": "http://127.0.0.1:9"}, max_network_retries=0
        )
        try:
            assert _checkout(client, shop, headers={"Idempotency-Key": "retry-me"}).status_code == 503
        finally:
            payments.client = working
        retry = _checkout(client, shop, headers={"Idempotency-Key": "retry-me"})
        assert retry.status_code == 201 and retry.json["status"] == "pending" and retry.json["clientSecret"]
        stored = db_session.scalars(select(Purchase).order_by(Purchase.status)).all()
        assert [(p.status, p.idempotency_key) for p in stored] == [("failed", None), ("pending", "retry-me")]

    def test_stripe_unreachable_on_a_repeat_is_503(self, app, provided, client, db_session, shop):
        key = {"Idempotency-Key": "k1"}
        assert _checkout(client, shop, headers=key).status_code == 201
        payments = provided(Payments)
        working = payments.client
        payments.client = stripe.StripeClient(
            "sk_test_unit", base_addresses={"api": "http://127.0.0.1:9"}, max_network_retries=0
        )
        try:
            response = _checkout(client, shop, headers=key)
        finally:
            payments.client = working
        assert response.status_code == 503
        assert _checkout(client, shop, headers=key).status_code == 200
        assert db_session.scalar(select(func.count()).select_from(Purchase)) == 1


class TestConcurrentFirstTries:
    """Two (here eight) first tries with one key at once, on real connections that each commit: the unique index
    lets one purchase through; the others lose at the index, roll their savepoint back (promo use included) and
    answer as repeats. Committed rows: this test cleans up after itself."""

    TRIES = 8

    @pytest.fixture
    def committed_shop(self, app, projects, auth):
        engine = app.extensions["database"].engine
        operator_id = uuid.uuid4()
        auth.add_operator(operator_id)
        project = projects.add(operator_id)
        participant = {"id": uuid.uuid4(), "email": "guest@example.com", "name": "Guest"}
        projects.add_member(project.id, participant["id"])
        with Session(engine) as session, session.begin():
            pricing_rules.create_rule(
                session=session, projects=None, operator_id=operator_id, price_per_photo_cents=500
            )
            discount_id = discounts.create_discount(
                session=session, operator_id=operator_id, name="D", type="percentage", value=10
            ).id
            code_id = promo_codes.create_promo_code(
                session=session, operator_id=operator_id, code="RACE10", discount_id=discount_id
            ).id
        yield type(
            "Shop",
            (),
            {
                "engine": engine,
                "project": project,
                "participant": participant,
                "code_id": code_id,
                "photos": projects.add_photos(project.id, uuid.uuid4(), 2),
            },
        )
        with Session(engine) as session, session.begin():
            session.execute(delete(Purchase).where(Purchase.operator_id == operator_id))
            for model in (PricingRule, PromoCode, Discount):
                session.execute(delete(model).where(model.operator_id == operator_id))

    @pytest.mark.parametrize("promo_code", ["race10", None])
    def test_one_purchase_one_intent_one_promo_use(self, app, provided, committed_shop, stripe_api_base, promo_code):
        shop = committed_shop
        real_auth = provided(AuthClient)
        barrier = threading.Barrier(self.TRIES)

        class AuthAtTheStartLine:
            """Every try has looked for the key (and found none) before any of them writes."""

            def operator_currency(self, operator_id):
                currency = real_auth.operator_currency(operator_id)
                barrier.wait(timeout=20)
                return currency

        @contextmanager
        def unit_of_work():
            with Session(shop.engine, expire_on_commit=False) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise

        answers = [None] * self.TRIES

        def attempt(i):
            try:
                answers[i] = purchases.checkout(
                    unit_of_work=unit_of_work,
                    projects=provided(ProjectsClient),
                    auth=AuthAtTheStartLine(),
                    payments=provided(Payments),
                    project_id=shop.project.id,
                    participant=shop.participant,
                    photo_ids=shop.photos,
                    promo_code=promo_code,
                    idempotency_key="race-key",
                    key_ttl=dt.timedelta(hours=24),
                    now=dt.datetime.now(dt.UTC),
                )
            except Exception as exc:  # noqa: BLE001 — any failure fails the test below
                answers[i] = exc

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(self.TRIES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert all(isinstance(answer, tuple) for answer in answers), answers
        created = [view for view, new in answers if new]
        assert len(created) == 1
        winner = created[0]
        for view, _new in answers:
            assert view.id == winner.id and view.status == "pending"
            # A loser may read the purchase before the winner has stored its intent: no secret to give yet.
            assert view.client_secret in (None, winner.client_secret)
        with Session(shop.engine) as session:
            stored = session.scalars(select(Purchase).where(Purchase.participant_id == shop.participant["id"])).all()
            assert [(p.id, p.idempotency_key) for p in stored] == [(winner.id, "race-key")]
            assert (
                session.scalar(
                    select(func.count()).select_from(PurchaseItem).where(PurchaseItem.purchase_id == winner.id)
                )
                == 2
            )
            assert session.get(PromoCode, shop.code_id).times_used == (1 if promo_code else 0)
            assert session.scalar(
                select(func.count())
                .select_from(PromoCodeRedemption)
                .where(PromoCodeRedemption.promo_code_id == shop.code_id)
            ) == (1 if promo_code else 0)
        assert len(TestIdempotencyKey._intents(stripe_api_base, str(winner.id))) == 1
