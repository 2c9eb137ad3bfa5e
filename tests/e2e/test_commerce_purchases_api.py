"""Purchases through the real stack: checkout (commerce → projects, auth, localstripe), Stripe's signed webhooks
through the gateway, the operator's purchase list and detail, and the figures analytics asks for."""

import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import text

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token
from devstack import stripe_events
from devstack.stack import STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET

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


def _headers():
    return {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'checkout-page')}"}


def _ok(response, status=(200, 201, 204)):
    assert response.status_code in ((status,) if isinstance(status, int) else status), response.text
    return response.json() if response.content else None


@pytest.fixture
def shop(gw, feed, ready_photos, operator, photographer, new_project):
    """A live project of the operator at 400 a photo, a participant who joined it, and four ready photos."""
    project = new_project(operator, type="public", status="live")
    _ok(gw.post("/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 400}))
    return _shop(feed, ready_photos, project, photographer)


def _shop(feed, ready_photos, project, photographer, photos=4):
    participant = feed.participant()
    _ok(feed.join(project["id"], participant), 201)
    return type(
        "Shop",
        (),
        {
            "project": project,
            "participant": participant,
            "photos": ready_photos(project["id"], photographer.id, photos),
            "photographer": photographer,
        },
    )


def _checkout(stack, shop, photos=None, participant=None, **extra):
    return requests.post(
        f"{stack.service_url('commerce')}/internal/checkout",
        headers=_headers(),
        timeout=30,
        json={
            "projectId": shop.project["id"],
            "participant": participant or shop.participant,
            "photoIds": shop.photos[:2] if photos is None else photos,
            **extra,
        },
    )


def _promo(gw, operator, code, **limits):
    discount = _ok(
        gw.post("/v1/discounts", token=operator.token, json={"name": code, "type": "percentage", "value": 25})
    )
    return _ok(
        gw.post("/v1/promo-codes", token=operator.token, json={"code": code, "discountId": discount["id"], **limits})
    )


def _webhook(gw, event, secret=STRIPE_WEBHOOK_SECRET, signature=None):
    return stripe_events.deliver(gw, event, secret, signature)


def _one(databases, sql, **params):
    with databases["commerce"].connect() as connection:
        return connection.execute(text(sql), params).scalar()


def _status(gw, operator, purchase):
    return _ok(gw.get(f"/v1/purchases/{purchase['id']}", token=operator.token))["status"]


class TestCheckout:
    def test_pending_purchase_with_a_stripe_payment_intent(self, gw, stack, databases, operator, shop):
        _ok(gw.patch("/v1/operators/me", token=operator.token, json={"currency": "CHF"}))
        response = _checkout(stack, shop)
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == ITEM_FIELDS | {"downloads", "clientSecret"}
        assert (
            body["status"],
            body["photoCount"],
            body["subtotalCents"],
            body["discountAppliedCents"],
            body["totalCents"],
            body["appliedPromoCode"],
        ) == ("pending", 2, 800, 0, 800, None)
        assert body["project"] == {"id": shop.project["id"], "name": "Summer Gala"}
        assert body["user"] == {"id": shop.participant["id"], "email": shop.participant["email"], "name": "Guest"}
        assert sorted(d["photoId"] for d in body["downloads"]) == sorted(shop.photos[:2])
        intent = requests.get(
            f"{stack.stripe_backend_url}/v1/payment_intents/{body['stripePaymentIntentId']}",
            auth=(STRIPE_SECRET_KEY, ""),
            timeout=10,
        ).json()
        assert (intent["amount"], intent["currency"], intent["metadata"], intent["client_secret"]) == (
            800,
            "chf",
            {"purchase_id": body["id"]},
            body["clientSecret"],
        )
        shares = _one(
            databases,
            "SELECT array_agg(share_cents ORDER BY photo_id) FROM purchase_items "
            "WHERE purchase_id = :id AND photographer_id = :ph",
            id=body["id"],
            ph=shop.photographer.id,
        )
        assert shares == [400, 400]
        detail = _ok(gw.get(f"/v1/purchases/{body['id']}", token=operator.token))
        assert detail == {k: v for k, v in body.items() if k != "clientSecret"}

    def test_free_checkout_is_paid_at_once(self, gw, stack, databases, operator, shop):
        _ok(
            gw.post(
                "/v1/pricing/rules",
                token=operator.token,
                json={"pricePerPhotoCents": 0, "projectId": shop.project["id"]},
            )
        )
        body = _ok(_checkout(stack, shop), 201)
        assert (body["status"], body["totalCents"], body["stripePaymentIntentId"], body["clientSecret"]) == (
            "paid",
            0,
            None,
            None,
        )

    def test_refusals(
        self, gw, stack, databases, feed, ready_photos, operator, other_operator, photographer, new_project, shop
    ):
        unknown = requests.post(
            f"{stack.service_url('commerce')}/internal/checkout",
            headers=_headers(),
            json={"projectId": str(uuid.uuid4()), "participant": shop.participant, "photoIds": shop.photos[:1]},
            timeout=10,
        )
        assert unknown.status_code == 404
        stranger = {"id": str(uuid.uuid4()), "email": "s@example.com", "name": "S"}
        assert _checkout(stack, shop, participant=stranger).status_code == 403
        pending = ready_photos(shop.project["id"], photographer.id, 1, status="pending")[0]
        elsewhere = new_project(operator, type="public", status="live")
        foreign = ready_photos(elsewhere["id"], photographer.id, 1)[0]
        bad = _checkout(stack, shop, photos=[shop.photos[0], pending, foreign])
        assert bad.status_code == 422
        assert bad.json()["errors"] == {
            "json": {"photoIds": [f"Not ready photos of this project: {', '.join(sorted([pending, foreign]))}"]}
        }
        assert _checkout(stack, shop, photos=[shop.photos[0], shop.photos[0]]).status_code == 422
        _ok(gw.patch(f"/v1/projects/{shop.project['id']}/status", token=operator.token, json={"status": "draft"}))
        draft = _checkout(stack, shop)
        assert draft.status_code == 409 and "live" in draft.json()["message"]
        unpriced = new_project(other_operator, type="public", status="live")
        no_price = _checkout(stack, _shop(feed, ready_photos, unpriced, photographer, photos=1), photos=None)
        assert no_price.status_code == 409 and "No price applies" in no_price.json()["message"]
        assert (
            _one(
                databases,
                "SELECT count(*) FROM purchases WHERE operator_id IN (:a, :b)",
                a=operator.id,
                b=other_operator.id,
            )
            == 0
        )

    def test_stripe_down_is_503_and_nothing_stays_pending(self, gw, stack, databases, operator, shop):
        code = _promo(gw, operator, f"DOWN{uuid.uuid4().hex[:6]}".upper())
        stack.stripe_proxy.refuse()
        try:
            response = _checkout(stack, shop, promoCode=code["code"])
        finally:
            stack.stripe_proxy.restore()
        assert response.status_code == 503
        assert response.json()["message"] == "The payment provider is unavailable; try again shortly."
        listed = _ok(gw.get("/v1/purchases", token=operator.token))
        assert [item["status"] for item in listed["items"]] == ["failed"]
        assert listed["items"][0]["stripePaymentIntentId"] is None
        assert _one(databases, "SELECT times_used FROM promo_codes WHERE id = :id", id=code["id"]) == 0
        assert (
            _one(databases, "SELECT count(*) FROM promo_code_redemptions WHERE promo_code_id = :id", id=code["id"]) == 0
        )
        assert _checkout(stack, shop).status_code == 201  # and it works again once Stripe is back

    @pytest.mark.parametrize("source", ["projects", "auth"])
    def test_a_source_down_is_503_and_writes_nothing(self, gw, stack, databases, operator, shop, source):
        stack.stop_service(source)
        try:
            response = _checkout(stack, shop)
        finally:
            stack.start_service(source)
        assert response.status_code == 503 and response.json()["code"] == 503
        assert _one(databases, "SELECT count(*) FROM purchases WHERE project_id = :p", p=shop.project["id"]) == 0

    def test_promo_code_used_and_given_back_when_the_payment_fails(self, gw, stack, databases, operator, shop):
        code = _promo(gw, operator, f"ONCE{uuid.uuid4().hex[:6]}".upper(), maxUses=1)
        first = _ok(_checkout(stack, shop, promoCode=code["code"].lower()), 201)
        assert (first["appliedPromoCode"], first["discountAppliedCents"], first["totalCents"]) == (
            code["code"],
            200,
            600,
        )
        assert _ok(gw.get("/v1/promo-codes", token=operator.token))[0]["timesUsed"] == 1
        assert _ok(_checkout(stack, shop, promoCode=code["code"]), 201)["appliedPromoCode"] is None
        _ok(_webhook(gw, stripe_events.intent_event("payment_intent.payment_failed", first)))
        assert _status(gw, operator, first) == "failed"
        assert _ok(gw.get("/v1/promo-codes", token=operator.token))[0]["timesUsed"] == 0
        assert _ok(_checkout(stack, shop, promoCode=code["code"]), 201)["appliedPromoCode"] == code["code"]

    def test_concurrent_checkouts_share_a_single_use_code_once(self, gw, stack, databases, operator, shop):
        code = _promo(gw, operator, f"RACE{uuid.uuid4().hex[:6]}".upper(), maxUses=1)
        barrier = threading.Barrier(4)
        answers = [None] * 4

        def buy(i):
            barrier.wait(10)
            answers[i] = _checkout(stack, shop, photos=[shop.photos[i]], promoCode=code["code"])

        threads = [threading.Thread(target=buy, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert [answer.status_code for answer in answers] == [201] * 4
        applied = [answer.json()["appliedPromoCode"] for answer in answers]
        assert (applied.count(code["code"]), applied.count(None)) == (1, 3)
        assert _one(databases, "SELECT times_used FROM promo_codes WHERE id = :id", id=code["id"]) == 1

    def test_a_retry_with_the_same_idempotency_key_gets_the_same_purchase(self, gw, stack, databases, operator, shop):
        code = _promo(gw, operator, f"KEY{uuid.uuid4().hex[:6]}".upper())
        key = {"Idempotency-Key": f"checkout-page-{uuid.uuid4()}"}

        def buy():
            return requests.post(
                f"{stack.service_url('commerce')}/internal/checkout",
                headers={**_headers(), **key},
                timeout=30,
                json={
                    "projectId": shop.project["id"],
                    "participant": shop.participant,
                    "photoIds": shop.photos[:2],
                    "promoCode": code["code"],
                },
            )

        first = buy()
        assert first.status_code == 201, first.text
        repeat = buy()
        assert repeat.status_code == 200, repeat.text
        assert repeat.json() == first.json() and repeat.json()["clientSecret"]
        assert (
            _one(databases, "SELECT count(*) FROM purchases WHERE participant_id = :p", p=shop.participant["id"]) == 1
        )
        assert _one(databases, "SELECT times_used FROM promo_codes WHERE id = :id", id=code["id"]) == 1
        other = requests.post(
            f"{stack.service_url('commerce')}/internal/checkout",
            headers={**_headers(), **key},
            timeout=30,
            json={"projectId": shop.project["id"], "participant": shop.participant, "photoIds": shop.photos[2:]},
        )
        assert other.status_code == 409, other.text
        assert other.json()["message"] == "This Idempotency-Key was used for a different checkout."


class TestWebhooks:
    def test_signed_events_move_a_purchase_once_and_never_backwards(self, gw, stack, databases, operator, shop):
        purchase = _ok(_checkout(stack, shop), 201)
        succeeded = stripe_events.intent_event("payment_intent.succeeded", purchase)
        response = _webhook(gw, succeeded)
        assert response.status_code == 200 and response.json() == {"received": True}
        assert _status(gw, operator, purchase) == "paid"
        assert _webhook(gw, stripe_events.intent_event("payment_intent.payment_failed", purchase)).status_code == 200
        assert _status(gw, operator, purchase) == "paid"  # a late failure does not undo a payment
        assert _webhook(gw, stripe_events.refund_event(purchase)).status_code == 200
        assert _status(gw, operator, purchase) == "refunded"
        assert _webhook(gw, stripe_events.intent_event("payment_intent.succeeded", purchase)).status_code == 200
        assert _status(gw, operator, purchase) == "refunded"
        assert _webhook(gw, succeeded).status_code == 200  # a redelivery
        assert _one(databases, "SELECT count(*) FROM stripe_events WHERE id = :id", id=succeeded["id"]) == 1
        assert (
            _webhook(
                gw, {"id": f"evt_{uuid.uuid4().hex}", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}
            ).status_code
            == 200
        )

    def test_a_redelivered_event_is_applied_once(self, gw, stack, databases, operator, shop):
        code = _promo(gw, operator, f"DEDUP{uuid.uuid4().hex[:6]}".upper())
        purchase = _ok(_checkout(stack, shop, promoCode=code["code"]), 201)
        failed = stripe_events.intent_event("payment_intent.payment_failed", purchase)
        _ok(_webhook(gw, failed))
        _ok(
            _webhook(gw, stripe_events.intent_event("payment_intent.succeeded", purchase))
        )  # failed → paid: the use is back
        _ok(_webhook(gw, failed))  # the same failure again: no effect
        assert _status(gw, operator, purchase) == "paid"
        assert _one(databases, "SELECT times_used FROM promo_codes WHERE id = :id", id=code["id"]) == 1

    def test_an_abandoned_payment_gives_the_promo_use_back(self, gw, stack, databases, operator, shop):
        code = _promo(gw, operator, f"GONE{uuid.uuid4().hex[:6]}".upper(), maxUsesPerUser=1)
        purchase = _ok(_checkout(stack, shop, promoCode=code["code"]), 201)
        _ok(_webhook(gw, stripe_events.intent_event("payment_intent.canceled", purchase)))
        assert _status(gw, operator, purchase) == "failed"
        assert _one(databases, "SELECT times_used FROM promo_codes WHERE id = :id", id=code["id"]) == 0
        assert _ok(_checkout(stack, shop, promoCode=code["code"]), 201)["appliedPromoCode"] == code["code"]

    def test_a_refund_that_overtakes_the_payment_stays_refunded(self, gw, stack, databases, operator, shop):
        purchase = _ok(_checkout(stack, shop), 201)
        _ok(_webhook(gw, stripe_events.refund_event(purchase)))
        _ok(_webhook(gw, stripe_events.intent_event("payment_intent.succeeded", purchase)))
        assert _status(gw, operator, purchase) == "refunded"

    @pytest.mark.parametrize("case", ["missing", "wrong secret", "garbage"])
    def test_bad_signature_is_400(self, gw, stack, operator, shop, case):
        purchase = _ok(_checkout(stack, shop), 201)
        event = stripe_events.intent_event("payment_intent.succeeded", purchase)
        response = _webhook(
            gw,
            event,
            **{
                "missing": {"signature": ""},
                "wrong secret": {"secret": "whsec_nope"},
                "garbage": {"signature": "t=1,v1=deadbeef"},
            }[case],
        )
        assert response.status_code == 400
        body = response.json()
        assert (body["code"], body["status"], body["errors"]) == (400, "Bad Request", {})
        assert _status(gw, operator, purchase) == "pending"


class TestPurchaseList:
    def test_tenancy_roles_and_tokens(self, gw, stack, operator, other_operator, photographer, shop):
        purchase = _ok(_checkout(stack, shop), 201)
        assert _ok(gw.get("/v1/purchases", token=other_operator.token)) == {
            "items": [],
            "total": 0,
            "page": 1,
            "limit": 50,
        }
        forbidden = gw.get(f"/v1/purchases/{purchase['id']}", token=other_operator.token)
        assert forbidden.status_code == 403 and forbidden.json()["code"] == 403
        assert gw.get(f"/v1/purchases/{uuid.uuid4()}", token=operator.token).status_code == 404
        for path in ("/v1/purchases", f"/v1/purchases/{purchase['id']}"):
            assert gw.get(path, token=photographer.token).status_code == 403
            missing = gw.get(path)
            assert missing.status_code == 401 and missing.json()["code"] == 401

    def test_pages_filters_and_current_project_names(
        self, gw, stack, databases, feed, ready_photos, operator, photographer, new_project, shop
    ):
        made = [_ok(_checkout(stack, shop, photos=[photo]), 201) for photo in shop.photos]
        _ok(_webhook(gw, stripe_events.intent_event("payment_intent.succeeded", made[0])))
        second = new_project(operator, type="public", status="live", name="Autumn Fair")
        other = _ok(_checkout(stack, _shop(feed, ready_photos, second, photographer, photos=1), photos=None), 201)
        newest_first = [other["id"]] + [p["id"] for p in reversed(made)]

        everything = _ok(gw.get("/v1/purchases", token=operator.token))
        assert everything["total"] == 5 and [item["id"] for item in everything["items"]] == newest_first
        assert all(set(item) == ITEM_FIELDS for item in everything["items"])
        page = _ok(gw.get("/v1/purchases?page=2&limit=2", token=operator.token))
        assert (page["total"], page["page"], page["limit"]) == (5, 2, 2)
        assert [item["id"] for item in page["items"]] == newest_first[2:4]
        assert _ok(gw.get("/v1/purchases?page=9&limit=2", token=operator.token))["items"] == []
        paid = _ok(gw.get("/v1/purchases?status=paid", token=operator.token))
        assert [item["id"] for item in paid["items"]] == [made[0]["id"]] and paid["total"] == 1
        in_second = _ok(gw.get(f"/v1/purchases?projectId={second['id']}&status=pending", token=operator.token))
        assert [item["id"] for item in in_second["items"]] == [other["id"]]

        _ok(gw.patch(f"/v1/projects/{second['id']}", token=operator.token, json={"name": "Winter Fair"}))
        assert _ok(gw.get(f"/v1/purchases/{other['id']}", token=operator.token))["project"]["name"] == "Winter Fair"
        _ok(gw.delete(f"/v1/projects/{second['id']}", token=operator.token))
        detail = _ok(gw.get(f"/v1/purchases/{other['id']}", token=operator.token))
        assert detail["project"] == {"id": second["id"], "name": "Autumn Fair"}  # the name it was bought under

    @pytest.mark.parametrize(
        "query, field",
        [
            ("page=0", "page"),
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("page=x", "page"),
            ("projectId=nope", "projectId"),
            ("status=shipped", "status"),
        ],
    )
    def test_bad_queries_are_422(self, gw, operator, query, field):
        response = gw.get(f"/v1/purchases?{query}", token=operator.token)
        assert response.status_code == 422
        assert list(response.json()["errors"]["query"]) == [field]


class TestStats:
    def test_paid_purchases_of_the_operator(self, gw, stack, operator, photographer, shop):
        other_photographer = gw.register_photographer(operator, name="Robin")
        paid = _ok(_checkout(stack, shop, photos=shop.photos[:3]), 201)  # 1200
        refunded = _ok(_checkout(stack, shop, photos=shop.photos[3:]), 201)
        pending = _ok(_checkout(stack, shop, photos=shop.photos[:1]), 201)
        for purchase in (paid, refunded):
            _ok(_webhook(gw, stripe_events.intent_event("payment_intent.succeeded", purchase)))
        _ok(_webhook(gw, stripe_events.refund_event(refunded)))
        assert pending["status"] == "pending"

        def ask(**body):
            return _ok(
                requests.post(
                    f"{stack.service_url('commerce')}/internal/stats",
                    headers=_headers(),
                    json={"operatorId": operator.id, "projectIds": [shop.project["id"]], **body},
                    timeout=10,
                )
            )

        expected = {
            "purchasesMade": 1,
            "revenueInCents": 1200,
            "buyers": 1,
            "projects": [{"projectId": shop.project["id"], "purchasesMade": 1, "revenueInCents": 1200}],
        }
        assert ask() == expected
        assert ask(photographerIds=[photographer.id]) == expected
        assert ask(photographerIds=[other_photographer.id]) == {
            "purchasesMade": 0,
            "revenueInCents": 0,
            "buyers": 0,
            "projects": [],
        }
        unauthorised = requests.post(f"{stack.service_url('commerce')}/internal/stats", json={}, timeout=10)
        assert unauthorised.status_code == 401
        assert gw.post("/internal/stats", json={}).status_code == 404  # never through the gateway


class TestExpiry:
    def test_the_commerce_worker_fails_stale_pending_purchases(self, gw, stack, databases, operator, shop, wait_for):
        """An abandoned payment page (its intent cancelled at localstripe) and a checkout that died before storing
        its intent: both failed by the worker once older than PENDING_PURCHASE_TTL_S, promo uses given back."""
        code = _promo(gw, operator, f"STALE{uuid.uuid4().hex[:6]}".upper())
        abandoned = _ok(_checkout(stack, shop, promoCode=code["code"]), 201)
        orphan = _ok(_checkout(stack, shop, photos=shop.photos[2:], promoCode=code["code"]), 201)
        fresh = _ok(_checkout(stack, shop, photos=shop.photos[:1]), 201)
        assert _one(databases, "SELECT times_used FROM promo_codes WHERE id = :id", id=code["id"]) == 2
        with databases["commerce"].begin() as connection:
            connection.execute(
                text(
                    "UPDATE purchases SET created_at = now() - interval '2 hours', "
                    "stripe_payment_intent_id = CASE WHEN id = :orphan THEN NULL "
                    "ELSE stripe_payment_intent_id END WHERE id IN (:abandoned, :orphan)"
                ),
                {"abandoned": abandoned["id"], "orphan": orphan["id"]},
            )
        assert wait_for(
            lambda: _status(gw, operator, abandoned) == _status(gw, operator, orphan) == "failed", timeout=30
        ), stack.workdir / "logs" / "commerce-worker.log"
        assert _one(databases, "SELECT times_used FROM promo_codes WHERE id = :id", id=code["id"]) == 0
        intent = requests.get(
            f"{stack.stripe_backend_url}/v1/payment_intents/{abandoned['stripePaymentIntentId']}",
            auth=(STRIPE_SECRET_KEY, ""),
            timeout=10,
        ).json()
        assert intent["status"] == "canceled"
        assert _status(gw, operator, fresh) == "pending"


def test_the_purchase_list_hears_its_rows_and_its_total(gw, stack, databases, operator, shop):
    """The list is kept per worker and sent with no round trip while nothing it shows changed
    (backoffice_common.list_changes): a change straight in the database, to a purchase or to the rollup its total
    comes from, shows on every worker (test_list_changes.py has the other lists)."""
    purchase = _ok(_checkout(stack, shop), 201)

    def page():
        bodies = [_ok(gw.get("/v1/purchases", token=operator.token)) for _ in range(4)]  # every worker keeps it
        assert all(body == bodies[0] for body in bodies)
        return bodies[0]

    def shows(seen):
        deadline = time.monotonic() + 1.0  # heard once PostgreSQL delivers the notification: microseconds
        while not seen(_ok(gw.get("/v1/purchases", token=operator.token))):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert seen(page())

    before = page()
    assert (before["total"], [item["id"] for item in before["items"]]) == (1, [purchase["id"]])
    with databases["commerce"].begin() as connection:
        connection.execute(
            text(
                "UPDATE purchases SET subtotal_cents = subtotal_cents + 100, total_cents = total_cents + 100"
                " WHERE id = :id"
            ),
            {"id": purchase["id"]},
        )
    shows(lambda body: body["items"][0]["totalCents"] == before["items"][0]["totalCents"] + 100)
    with databases["commerce"].begin() as connection:
        connection.execute(
            text("UPDATE purchase_counts SET purchases = purchases + 5 WHERE operator_id = :id"), {"id": operator.id}
        )
    shows(lambda body: body["total"] == 6)
