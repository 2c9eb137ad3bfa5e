"""The worker's sweep of stale pending purchases (services/expiry.py), on real PostgreSQL and localstripe: no
PaymentIntent → failed; an intent → cancelled at Stripe and failed, or paid when it had succeeded; fresh
purchases, purchases a webhook moved meanwhile and undecided intents are left alone."""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager

import pytest
import stripe
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from backoffice_common.config import DEV_INTERNAL_SECRET, SettingsError
from backoffice_common.internal import make_service_token
from commerce_service.clients.payments import Payments
from commerce_service.config import Settings
from commerce_service.models import PromoCode, PromoCodeRedemption, Purchase
from commerce_service.purchases.expiry import expire_stale_purchases
from devstack import stripe_events

STRIPE_WEBHOOK_SECRET = "whsec_unit_test_secret"  # what conftest gives the app
SERVICE = {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'checkout')}"}
TTL = dt.timedelta(hours=1)


@pytest.fixture
def shop(client, projects, auth, operator, operator_id):
    """A live project at 500 a photo, a member, three ready photos, and a 10 % promo code."""
    auth.add_operator(operator_id)
    project = projects.add(operator_id)
    assert client.post("/v1/pricing/rules", json={"pricePerPhotoCents": 500}, headers=operator).status_code == 201
    participant = {"id": str(uuid.uuid4()), "email": "guest@example.com", "name": "Guest"}
    projects.add_member(project.id, uuid.UUID(participant["id"]))
    discount = client.post(
        "/v1/discounts", json={"name": "Ten", "type": "percentage", "value": 10}, headers=operator
    ).json
    code = client.post("/v1/promo-codes", json={"code": "TEN", "discountId": discount["id"]}, headers=operator).json
    return type(
        "Shop",
        (),
        {
            "project": project,
            "participant": participant,
            "code_id": uuid.UUID(code["id"]),
            "photos": projects.add_photos(project.id, uuid.uuid4(), 3),
        },
    )


@pytest.fixture
def unit_of_work(app, db_session):
    """What the worker uses, on the test's connection: each unit of work a savepoint of the outer transaction."""
    database = app.extensions["database"]

    @contextmanager
    def unit():
        with database.session_factory() as session, session.begin():
            yield session

    return unit


@pytest.fixture
def payments(provided) -> Payments:
    return provided(Payments)


@pytest.fixture
def sweep(unit_of_work, payments):
    return lambda payments=payments: expire_stale_purchases(
        unit_of_work=unit_of_work, payments=payments, older_than=TTL
    )


def _checkout(client, shop, promo=True) -> dict:
    response = client.post(
        "/internal/checkout",
        headers=SERVICE,
        json={
            "projectId": str(shop.project.id),
            "participant": shop.participant,
            "photoIds": [str(photo) for photo in shop.photos],
            **({"promoCode": "TEN"} if promo else {}),
        },
    )
    assert response.status_code == 201, response.json
    assert response.json["status"] == "pending" and response.json["appliedPromoCode"] == ("TEN" if promo else None)
    return response.json


def _age(db_session, purchase, by=dt.timedelta(hours=2), **values):
    db_session.execute(
        update(Purchase).where(Purchase.id == uuid.UUID(purchase["id"])).values(created_at=func.now() - by, **values)
    )
    db_session.flush()


def _purchase(db_session, purchase) -> Purchase:
    return db_session.get(Purchase, uuid.UUID(purchase["id"]), populate_existing=True)


def _promo_uses(db_session, shop, purchase) -> tuple[int, int]:
    """(the code's times_used, the purchase's redemptions)."""
    times_used = db_session.scalar(
        select(PromoCode.times_used).where(PromoCode.id == shop.code_id).execution_options(populate_existing=True)
    )
    redemptions = db_session.scalar(
        select(func.count())
        .select_from(PromoCodeRedemption)
        .where(PromoCodeRedemption.purchase_id == uuid.UUID(purchase["id"]))
    )
    return times_used, redemptions


def _stripe(stripe_api_base) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_unit", base_addresses={"api": stripe_api_base}, max_network_retries=0)


def _pay(stripe_api_base, purchase) -> None:
    """The participant pays with a test card (localstripe: attach the card, then confirm)."""
    stripe_client = _stripe(stripe_api_base)
    card = stripe_client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    stripe_client.v1.payment_intents.update(purchase["stripePaymentIntentId"], params={"payment_method": card.id})
    assert stripe_client.v1.payment_intents.confirm(purchase["stripePaymentIntentId"]).status == "succeeded"


def test_a_purchase_without_a_payment_intent_fails_and_gives_its_promo_use_back(client, db_session, shop, sweep):
    purchase = _checkout(client, shop)
    _age(db_session, purchase, stripe_payment_intent_id=None)  # the process died before storing the intent
    assert _promo_uses(db_session, shop, purchase) == (1, 1)
    assert sweep() == 1
    assert _purchase(db_session, purchase).status == "failed"
    assert _promo_uses(db_session, shop, purchase) == (0, 0)


def test_a_payment_intent_is_cancelled_at_stripe_and_the_purchase_fails(
    client, db_session, shop, sweep, stripe_api_base
):
    purchase = _checkout(client, shop)
    _age(db_session, purchase)
    assert sweep() == 1
    assert _purchase(db_session, purchase).status == "failed"
    assert _promo_uses(db_session, shop, purchase) == (0, 0)
    assert _stripe(stripe_api_base).v1.payment_intents.retrieve(purchase["stripePaymentIntentId"]).status == "canceled"


def test_a_payment_intent_that_succeeded_makes_the_purchase_paid(client, db_session, shop, sweep, stripe_api_base):
    """The webhook was lost: Stripe refuses the cancel, and the intent says it succeeded."""
    purchase = _checkout(client, shop)
    _pay(stripe_api_base, purchase)
    _age(db_session, purchase)
    assert sweep() == 1
    assert _purchase(db_session, purchase).status == "paid"
    assert _promo_uses(db_session, shop, purchase) == (1, 1)  # the use taken at checkout stays


@pytest.mark.parametrize(
    "changed",
    [
        {"discount_applied_cents": 151, "total_cents": 1349},
        {"discount_applied_cents": 149, "total_cents": 1351},
        {"currency": "CHF"},
    ],
)
def test_a_payment_intent_that_succeeded_for_another_amount_leaves_the_purchase_pending(
    client, db_session, shop, sweep, stripe_api_base, caplog, changed
):
    """What the webhook refuses, the sweeper refuses: Stripe says succeeded, but not for this purchase's total in
    its currency. Nothing moves, the error is logged, and the purchase goes to the back of the queue."""
    purchase = _checkout(client, shop)
    _pay(stripe_api_base, purchase)  # 1350 EUR at Stripe
    _age(db_session, purchase, **changed)
    looked_at = _purchase(db_session, purchase).updated_at
    assert sweep() == 0
    after = _purchase(db_session, purchase)
    assert after.status == "pending" and after.updated_at > looked_at
    assert _promo_uses(db_session, shop, purchase) == (1, 1)
    errors = [record for record in caplog.records if record.levelname == "ERROR"]
    assert [record.getMessage() for record in errors] == [
        "stripe payment does not match its purchase: the purchase does not move"
    ]
    assert (errors[0].amount_received, errors[0].currency) == (1350, "eur")


def test_an_intent_unknown_to_stripe_fails_the_purchase(client, db_session, shop, sweep):
    purchase = _checkout(client, shop)
    _age(db_session, purchase, stripe_payment_intent_id=f"pi_gone{uuid.uuid4().hex[:12]}")  # e.g. localstripe restarted
    assert sweep() == 1
    assert _purchase(db_session, purchase).status == "failed"
    assert _promo_uses(db_session, shop, purchase) == (0, 0)


def test_fresh_pending_purchases_are_left_alone(client, db_session, shop, sweep, stripe_api_base):
    purchase = _checkout(client, shop)
    _age(db_session, purchase, by=TTL - dt.timedelta(minutes=1))
    assert sweep() == 0
    assert _purchase(db_session, purchase).status == "pending"
    assert _promo_uses(db_session, shop, purchase) == (1, 1)
    assert (
        _stripe(stripe_api_base).v1.payment_intents.retrieve(purchase["stripePaymentIntentId"]).status
        == "requires_payment_method"
    )


@pytest.mark.parametrize(
    "event_type, paid_at_stripe, status, uses",
    [
        ("payment_intent.succeeded", False, "paid", (1, 1)),  # then the cancel goes through: not failed over it
        ("payment_intent.payment_failed", True, "failed", (0, 0)),  # then Stripe says succeeded: not paid over it
    ],
)
def test_a_purchase_a_webhook_moved_meanwhile_is_left_alone(
    client, db_session, shop, sweep, payments, stripe_api_base, event_type, paid_at_stripe, status, uses
):
    """The webhook lands between the claim and the outcome: the outcome is not applied over it."""
    purchase = _checkout(client, shop)
    if paid_at_stripe:
        _pay(stripe_api_base, purchase)
    _age(db_session, purchase)

    class WebhookFirst:
        def cancel_payment_intent(self, intent_id):
            payload, headers = stripe_events.signed(
                stripe_events.intent_event(event_type, purchase), STRIPE_WEBHOOK_SECRET
            )
            assert client.post("/v1/webhooks/stripe", data=payload, headers=headers).status_code == 200
            return payments.cancel_payment_intent(intent_id)

        def payment_intent(self, intent_id):
            return payments.payment_intent(intent_id)

    assert sweep(WebhookFirst()) == 0
    assert _purchase(db_session, purchase).status == status
    assert _promo_uses(db_session, shop, purchase) == uses


def test_undecided_intents_and_an_unreachable_stripe_leave_purchases_for_the_next_round(
    client, db_session, shop, sweep
):
    processing, no_intent = _checkout(client, shop), _checkout(client, shop, promo=False)
    _age(db_session, processing)
    _age(db_session, no_intent, by=dt.timedelta(hours=3), stripe_payment_intent_id=None)

    class Processing:
        def cancel_payment_intent(self, intent_id):
            return False

        def payment_intent(self, intent_id):
            return {"id": intent_id, "status": "processing", "amount_received": 0, "currency": "eur"}

    assert sweep(Processing()) == 1
    assert (_purchase(db_session, processing).status, _purchase(db_session, no_intent).status) == ("pending", "failed")
    unreachable = Payments(
        secret_key="sk_test_unit",
        api_base="http://127.0.0.1:9",
        webhook_secret="whsec_x",
        connect_timeout=0.5,
        read_timeout=0.5,
    )
    assert sweep(unreachable) == 0
    assert _purchase(db_session, processing).status == "pending"
    assert _promo_uses(db_session, shop, processing) == (1, 1)


def test_undecided_intents_go_to_the_back_of_the_queue(client, db_session, shop, unit_of_work):
    """A full batch of intents Stripe hasn't decided can't keep the sweeper from newer stale purchases."""
    processing, no_intent = _checkout(client, shop), _checkout(client, shop, promo=False)
    _age(db_session, processing, by=dt.timedelta(hours=5))
    _age(db_session, no_intent, by=dt.timedelta(hours=2), stripe_payment_intent_id=None)

    class Processing:
        def cancel_payment_intent(self, intent_id):
            return False

        def payment_intent(self, intent_id):
            return {"id": intent_id, "status": "processing", "amount_received": 0, "currency": "eur"}

    def sweep_one():
        return expire_stale_purchases(unit_of_work=unit_of_work, payments=Processing(), older_than=TTL, limit=1)

    assert sweep_one() == 0  # the oldest is looked at first, and is still undecided
    assert sweep_one() == 1  # then the one behind it
    assert (_purchase(db_session, processing).status, _purchase(db_session, no_intent).status) == ("pending", "failed")


def test_a_stopping_worker_leaves_the_stripe_calls_for_next_time(client, db_session, shop, unit_of_work, payments):
    with_intent, no_intent = _checkout(client, shop), _checkout(client, shop, promo=False)
    _age(db_session, with_intent)
    _age(db_session, no_intent, stripe_payment_intent_id=None)
    moved = expire_stale_purchases(unit_of_work=unit_of_work, payments=payments, older_than=TTL, stopping=lambda: True)
    assert moved == 1  # the one that needs no Stripe call is settled; the other waits
    assert (_purchase(db_session, with_intent).status, _purchase(db_session, no_intent).status) == ("pending", "failed")


@pytest.fixture
def committed_stale_purchase(app, factories):
    """A pending purchase without an intent, committed and two hours old (for other connections to see)."""
    engine = app.extensions["database"].engine
    purchase_id = uuid.uuid4()
    with Session(engine) as session, session.begin():
        factories.make_purchase(session, id=purchase_id)
        session.execute(
            update(Purchase).where(Purchase.id == purchase_id).values(created_at=func.now() - dt.timedelta(hours=2))
        )
    yield purchase_id
    with Session(engine) as session, session.begin():
        session.execute(delete(Purchase).where(Purchase.id == purchase_id))


def _committed_status(engine, purchase_id) -> str:
    with Session(engine) as session:
        return session.scalar(select(Purchase.status).where(Purchase.id == purchase_id))


def test_a_purchase_locked_by_another_transaction_is_skipped(app, payments, committed_stale_purchase):
    engine = app.extensions["database"].engine

    @contextmanager
    def unit_of_work():
        with Session(engine) as session, session.begin():
            yield session

    def sweep():
        return expire_stale_purchases(unit_of_work=unit_of_work, payments=payments, older_than=TTL)

    with engine.connect() as holder:  # a webhook (or another worker) holding the row
        holder.execute(text("SELECT 1 FROM purchases WHERE id = :id FOR UPDATE"), {"id": committed_stale_purchase})
        started = time.monotonic()
        sweep()
        assert time.monotonic() - started < 5  # skipped, not waited for
        assert _committed_status(engine, committed_stale_purchase) == "pending"
        holder.rollback()
    sweep()
    assert _committed_status(engine, committed_stale_purchase) == "failed"


def test_the_worker_process_sweeps_and_stops_on_sigterm(
    app, database_url, stripe_api_base, committed_stale_purchase, tmp_path
):
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "STRIPE_API_BASE": stripe_api_base,
        "STRIPE_SECRET_KEY": "sk_test_unit",
        "SWEEP_INTERVAL_S": "0.2",
        "PENDING_PURCHASE_TTL_S": "3600",
    }
    log = tmp_path / "worker.log"  # a file, not a pipe: nobody reads a pipe while the worker runs
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "commerce_service.worker"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 20
        engine = app.extensions["database"].engine
        while _committed_status(engine, committed_stale_purchase) != "failed":
            assert time.monotonic() < deadline and worker.poll() is None, "the worker did not expire the purchase"
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(5) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert {"worker started", "stale purchase expired", "worker stopped"} <= {line["message"] for line in lines}
    assert all(line["service"] == "commerce-worker" for line in lines)


def test_settings_defaults_and_bounds():
    settings = Settings(app_env="test")
    assert (settings.pending_purchase_ttl_s, settings.sweep_interval_s) == (3600, 60)
    for field, too_low in (("pending_purchase_ttl_s", 299), ("sweep_interval_s", 0)):
        with pytest.raises(SettingsError, match=field):
            Settings(app_env="test", **{field: too_low})
