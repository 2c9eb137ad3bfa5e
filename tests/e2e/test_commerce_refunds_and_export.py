"""Design §10's operator tools for purchases, through the gateway: the refund (a real Stripe Refund at
localstripe, the purchase refunded at once, analytics agreeing) and the CSV export."""

import csv
import datetime as dt
import io
import uuid

import pytest
import requests
import stripe
from sqlalchemy import text

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token
from devstack import stripe_events
from devstack.stack import STRIPE_SECRET_KEY

HEADER = (
    "id,createdAt,status,projectId,projectName,userId,userEmail,userName,photoCount,subtotalCents,"
    "discountAppliedCents,totalCents,appliedPromoCode,stripePaymentIntentId"
)


def _ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def _one(databases, sql, **params):
    with databases["commerce"].connect() as connection:
        return connection.execute(text(sql), params).one()


@pytest.fixture
def shop(gw, feed, ready_photos, operator, photographer, new_project):
    """A live project of the operator at 400 a photo, a participant who joined it, and four ready photos."""
    project = new_project(operator, type="public", status="live")
    _ok(gw.post("/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 400}), 201)
    participant = feed.participant()
    assert feed.join(project["id"], participant).status_code == 201
    return type(
        "Shop",
        (),
        {"project": project, "participant": participant, "photos": ready_photos(project["id"], photographer.id, 4)},
    )


@pytest.fixture
def stripe_client(stack):
    return stripe.StripeClient(
        STRIPE_SECRET_KEY, base_addresses={"api": stack.stripe_backend_url}, max_network_retries=0
    )


@pytest.fixture
def paid(stack, stripe_client, stripe_webhook, shop):
    """``paid(photos=2, **checkout)`` → a purchase paid as the checkout page pays: a test card confirms its
    PaymentIntent at localstripe, then Stripe's payment_intent.succeeded arrives."""

    def pay(photos=2, **extra):
        response = requests.post(
            f"{stack.service_url('commerce')}/internal/checkout",
            timeout=30,
            headers={"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'checkout-page')}"},
            json={
                "projectId": shop.project["id"],
                "participant": shop.participant,
                "photoIds": shop.photos[:photos],
                **extra,
            },
        )
        detail = _ok(response, 201)
        if detail["stripePaymentIntentId"]:
            card = stripe_client.v1.payment_methods.create(
                params={
                    "type": "card",
                    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
                }
            )
            stripe_client.v1.payment_intents.update(detail["stripePaymentIntentId"], params={"payment_method": card.id})
            assert stripe_client.v1.payment_intents.confirm(detail["stripePaymentIntentId"]).status == "succeeded"
            event = stripe_events.intent_event("payment_intent.succeeded", detail)
            assert stripe_webhook(event).status_code == 200
        return detail

    return pay


def _refunds_at_stripe(stripe_client, purchase) -> list:
    refunds = stripe_client.v1.refunds.list(params={"payment_intent": purchase["stripePaymentIntentId"]}).data
    return [(r["amount"], r["status"], r.to_dict().get("reason"), r["metadata"].to_dict()) for r in refunds]


def _kpis(gw, operator):
    kpis = _ok(gw.get("/v1/analytics", token=operator.token))["kpis"]
    return kpis["purchasesMade"], kpis["revenueInCents"]


class TestRefund:
    def test_a_paid_purchase_is_refunded_in_full_at_stripe_and_at_once(
        self, gw, databases, operator, stripe_client, stripe_webhook, paid
    ):
        kept, purchase = paid(photos=1), paid(photos=2)
        assert _kpis(gw, operator) == (2, 1200)
        before = dt.datetime.now(dt.UTC)
        response = gw.post(
            f"/v1/purchases/{purchase['id']}/refund", token=operator.token, json={"reason": "requested_by_customer"}
        )
        body = _ok(response)
        detail = _ok(gw.get(f"/v1/purchases/{purchase['id']}", token=operator.token))
        refunded_at = dt.datetime.fromisoformat(body.pop("refundedAt").replace("Z", "+00:00"))
        assert before - dt.timedelta(seconds=1) <= refunded_at <= dt.datetime.now(dt.UTC)
        assert body == {**detail, "status": "refunded"} and detail["status"] == "refunded"
        assert _refunds_at_stripe(stripe_client, purchase) == [
            (800, "succeeded", "requested_by_customer", {"purchase_id": purchase["id"]})
        ]
        assert _kpis(gw, operator) == (1, 400)
        listed = _ok(gw.get("/v1/purchases", token=operator.token, params={"status": "refunded"}))
        assert [item["id"] for item in listed["items"]] == [purchase["id"]] and listed["total"] == 1
        # Stripe's charge.refunded that follows changes nothing (and the other purchase is untouched).
        assert stripe_webhook(stripe_events.refund_event(purchase)).status_code == 200
        row = _one(databases, "SELECT status, refunded_at FROM purchases WHERE id = :id", id=purchase["id"])
        assert (row.status, row.refunded_at.replace(microsecond=row.refunded_at.microsecond // 1000 * 1000)) == (
            "refunded",
            refunded_at,
        )
        assert _ok(gw.get(f"/v1/purchases/{kept['id']}", token=operator.token))["status"] == "paid"
        assert _kpis(gw, operator) == (1, 400)

    def test_a_second_refund_is_409_and_stripe_holds_one(self, gw, operator, stripe_client, paid):
        purchase = paid()
        _ok(gw.post(f"/v1/purchases/{purchase['id']}/refund", token=operator.token))  # no body: no reason
        again = gw.post(f"/v1/purchases/{purchase['id']}/refund", token=operator.token, json={})
        assert again.status_code == 409 and again.json()["code"] == 409
        assert again.json()["message"] == "Only a paid purchase can be refunded; this one is refunded."
        assert _refunds_at_stripe(stripe_client, purchase) == [
            (800, "succeeded", None, {"purchase_id": purchase["id"]})
        ]

    @pytest.mark.parametrize("outcome", ["pending", "failed"])
    def test_a_purchase_not_paid_is_409(self, gw, shop, operator, purchase, outcome):
        bought = purchase(shop.project["id"], shop.participant, shop.photos[:1], outcome=outcome)
        response = gw.post(f"/v1/purchases/{bought['id']}/refund", token=operator.token)
        assert response.status_code == 409
        assert response.json()["message"] == f"Only a paid purchase can be refunded; this one is {outcome}."
        assert _ok(gw.get(f"/v1/purchases/{bought['id']}", token=operator.token))["status"] == outcome

    def test_a_free_purchase_is_refunded_without_stripe(self, gw, databases, operator, shop, paid):
        _ok(
            gw.post(
                "/v1/pricing/rules",
                token=operator.token,
                json={"pricePerPhotoCents": 0, "projectId": shop.project["id"]},
            ),
            201,
        )
        free = paid()
        assert (free["status"], free["stripePaymentIntentId"]) == ("paid", None)
        body = _ok(gw.post(f"/v1/purchases/{free['id']}/refund", token=operator.token))
        assert (body["status"], body["totalCents"]) == ("refunded", 0) and body["refundedAt"]
        assert _kpis(gw, operator) == (0, 0)

    def test_the_promo_code_use_is_not_given_back(self, gw, databases, operator, paid):
        discount = _ok(
            gw.post("/v1/discounts", token=operator.token, json={"name": "Once", "type": "percentage", "value": 25}),
            201,
        )
        code = _ok(
            gw.post(
                "/v1/promo-codes",
                token=operator.token,
                json={"code": f"R{uuid.uuid4().hex[:8]}".upper(), "discountId": discount["id"], "maxUses": 1},
            ),
            201,
        )
        purchase = paid(promoCode=code["code"])
        assert purchase["appliedPromoCode"] == code["code"]
        _ok(gw.post(f"/v1/purchases/{purchase['id']}/refund", token=operator.token))
        assert _one(databases, "SELECT times_used FROM promo_codes WHERE id = :id", id=code["id"]) == (1,)
        assert _one(
            databases, "SELECT count(*) FROM promo_code_redemptions WHERE purchase_id = :id", id=purchase["id"]
        ) == (1,)

    def test_another_operators_purchase_is_403_and_unknown_is_404(
        self, gw, operator, other_operator, stripe_client, paid
    ):
        purchase = paid()
        response = gw.post(f"/v1/purchases/{purchase['id']}/refund", token=other_operator.token)
        assert response.status_code == 403 and response.json()["code"] == 403
        assert gw.post(f"/v1/purchases/{uuid.uuid4()}/refund", token=operator.token).status_code == 404
        assert _ok(gw.get(f"/v1/purchases/{purchase['id']}", token=operator.token))["status"] == "paid"
        assert _refunds_at_stripe(stripe_client, purchase) == []

    @pytest.mark.parametrize(
        "body", [{"reason": "changed_mind"}, {"reason": None}, {"reason": "duplicate", "x": 1}, {"amountCents": 100}]
    )
    def test_a_bad_body_is_422_and_changes_nothing(self, gw, operator, stripe_client, paid, body):
        purchase = paid()
        response = gw.post(f"/v1/purchases/{purchase['id']}/refund", token=operator.token, json=body)
        assert response.status_code == 422 and response.json()["code"] == 422
        assert _ok(gw.get(f"/v1/purchases/{purchase['id']}", token=operator.token))["status"] == "paid"
        assert _refunds_at_stripe(stripe_client, purchase) == []

    def test_roles(self, gw, photographer):
        assert gw.post(f"/v1/purchases/{uuid.uuid4()}/refund").status_code == 401
        assert gw.post(f"/v1/purchases/{uuid.uuid4()}/refund", token=photographer.token).status_code == 403

    def test_stripe_down_is_503_and_the_purchase_stays_paid(self, gw, stack, databases, operator, stripe_client, paid):
        purchase = paid()
        stack.stripe_proxy.refuse()
        try:
            response = gw.post(
                f"/v1/purchases/{purchase['id']}/refund", token=operator.token, json={"reason": "duplicate"}
            )
        finally:
            stack.stripe_proxy.restore()
        assert response.status_code == 503
        assert response.json()["message"] == "The payment provider is unavailable; try again shortly."
        row = _one(databases, "SELECT status, refunded_at FROM purchases WHERE id = :id", id=purchase["id"])
        assert (row.status, row.refunded_at) == ("paid", None)
        assert _refunds_at_stripe(stripe_client, purchase) == []
        assert _kpis(gw, operator) == (1, 800)
        # Once Stripe is back, the same refund goes through.
        assert _ok(gw.post(f"/v1/purchases/{purchase['id']}/refund", token=operator.token))["status"] == "refunded"
        assert len(_refunds_at_stripe(stripe_client, purchase)) == 1


def _export(gw, operator, **params):
    return gw.get("/v1/purchases/export.csv", token=operator.token, params=params)


def _rows(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def _backdate(databases, purchase, when):
    with databases["commerce"].begin() as connection:
        connection.execute(
            text("UPDATE purchases SET created_at = :when WHERE id = :id"), {"when": when, "id": purchase["id"]}
        )


class TestExport:
    def test_every_purchase_newest_first_as_csv(self, gw, operator, other_operator, shop, purchase, paid):
        first = purchase(shop.project["id"], shop.participant, shop.photos[:1], outcome="failed")
        second = paid(photos=3)
        response = _export(gw, operator)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        today = dt.datetime.now(dt.UTC).date().isoformat()
        assert response.headers["Content-Disposition"] == f'attachment; filename="purchases-{today}.csv"'
        assert response.content.decode("utf-8").split("\r\n")[0] == HEADER
        detail = _ok(gw.get(f"/v1/purchases/{second['id']}", token=operator.token))
        assert _rows(response) == [
            {
                "id": second["id"],
                "createdAt": detail["createdAt"],
                "status": "paid",
                "projectId": shop.project["id"],
                "projectName": shop.project["name"],
                "userId": shop.participant["id"],
                "userEmail": shop.participant["email"],
                "userName": shop.participant["name"],
                "photoCount": "3",
                "subtotalCents": "1200",
                "discountAppliedCents": "0",
                "totalCents": "1200",
                "appliedPromoCode": "",
                "stripePaymentIntentId": second["stripePaymentIntentId"],
            },
            {
                "id": first["id"],
                "createdAt": _ok(gw.get(f"/v1/purchases/{first['id']}", token=operator.token))["createdAt"],
                "status": "failed",
                "projectId": shop.project["id"],
                "projectName": shop.project["name"],
                "userId": shop.participant["id"],
                "userEmail": shop.participant["email"],
                "userName": shop.participant["name"],
                "photoCount": "1",
                "subtotalCents": "400",
                "discountAppliedCents": "0",
                "totalCents": "400",
                "appliedPromoCode": "",
                "stripePaymentIntentId": first["stripePaymentIntentId"],
            },
        ]
        assert [row["id"] for row in _rows(_export(gw, other_operator))] == []
        assert _export(gw, other_operator).content.decode() == HEADER + "\r\n"

    def test_the_current_project_name(self, gw, operator, shop, paid):
        paid()
        _ok(gw.patch(f"/v1/projects/{shop.project['id']}", token=operator.token, json={"name": "Renamed"}))
        # The list's cache: names up to PROJECT_CACHE_TTL_S old, as the list shows them.
        names = {row["projectName"] for row in _rows(_export(gw, operator))}
        assert names <= {"Renamed", shop.project["name"]} and len(names) == 1

    def test_projects_down_leaves_the_names_made_under(self, gw, stack, operator, shop, paid):
        bought = paid()
        stack.stop_service("projects")
        try:
            rows = _rows(_export(gw, operator, projectId=shop.project["id"]))
        finally:
            stack.start_service("projects")
        assert [(row["id"], row["projectName"]) for row in rows] == [(bought["id"], shop.project["name"])]

    def test_filters(
        self, gw, databases, operator, new_project, feed, ready_photos, photographer, shop, purchase, paid
    ):
        old, failed, new = (
            paid(photos=1),
            purchase(shop.project["id"], shop.participant, shop.photos[:1], outcome="failed"),
            paid(photos=2),
        )
        _backdate(databases, old, "2026-01-01T10:00:00Z")
        _backdate(databases, failed, "2026-02-01T10:00:00Z")
        other = new_project(operator, type="public", status="live")
        assert feed.join(other["id"], shop.participant).status_code == 201
        elsewhere = purchase(other["id"], shop.participant, ready_photos(other["id"], photographer.id, 1))

        def ids(**params):
            return [row["id"] for row in _rows(_export(gw, operator, **params))]

        assert ids() == [elsewhere["id"], new["id"], failed["id"], old["id"]]
        assert ids(projectId=shop.project["id"]) == [new["id"], failed["id"], old["id"]]
        assert ids(projectId=shop.project["id"], status="paid") == [new["id"], old["id"]]
        assert ids(status="failed") == [failed["id"]]
        # from/to on createdAt, inclusive, in any offset
        assert ids(**{"from": "2026-01-01T10:00:00Z", "to": "2026-02-01T11:00:00+01:00"}) == [failed["id"], old["id"]]
        assert ids(**{"from": "2026-01-01T10:00:00.001Z", "to": "2026-02-01T10:00:00Z"}) == [failed["id"]]
        assert ids(to="2025-12-31T23:59:59Z") == []

    @pytest.mark.parametrize(
        "params, field",
        [
            ({"status": "shipped"}, "status"),
            ({"projectId": "nope"}, "projectId"),
            ({"from": "2026-01-01T00:00:00"}, "from"),
            ({"to": "yesterday"}, "to"),
            ({"page": "2"}, "page"),
        ],
    )
    def test_a_bad_filter_is_422(self, gw, operator, params, field):
        response = _export(gw, operator, **params)
        assert response.status_code == 422, response.text
        assert response.headers["Content-Type"] == "application/json"
        assert list(response.json()["errors"]["query"]) == [field]

    def test_formula_injection_is_defused(
        self, gw, databases, feed, ready_photos, photographer, new_project, operator, shop, purchase
    ):
        project = new_project(operator, type="public", status="live", name="@SUM(A1)")
        assert feed.join(project["id"], shop.participant).status_code == 201
        bought = purchase(project["id"], shop.participant, ready_photos(project["id"], photographer.id, 1))
        with databases["commerce"].begin() as connection:
            connection.execute(
                text(
                    "UPDATE purchases SET participant_name = :name, participant_email = :email, "
                    "applied_promo_code = '-5' WHERE id = :id"
                ),
                {"id": bought["id"], "name": '=HYPERLINK("x")', "email": "+1@example.com"},
            )
        row = _rows(_export(gw, operator))[0]
        assert (row["id"], row["projectName"], row["userName"], row["userEmail"], row["appliedPromoCode"]) == (
            bought["id"],
            "'@SUM(A1)",
            '\'=HYPERLINK("x")',
            "'+1@example.com",
            "'-5",
        )

    def test_roles(self, gw, photographer):
        assert gw.get("/v1/purchases/export.csv").status_code == 401
        assert gw.get("/v1/purchases/export.csv", token=photographer.token).status_code == 403
