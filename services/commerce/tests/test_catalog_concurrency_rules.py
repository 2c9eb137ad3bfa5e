"""Races decided by the database: real connections in real threads, each committing on its own
(not the rolled-back savepoint session the other tests use)."""

import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backoffice_common.errors import Conflict
from commerce_service.clients.projects import CheckoutFacts, ProjectRef
from commerce_service.discounts import rules as discounts
from commerce_service.models import Discount, PricingRule, PromoCode, PromoCodeRedemption, Purchase
from commerce_service.pricing import rules as pricing_rules
from commerce_service.promo_codes import rules as promo_codes
from commerce_service.purchases import checkout as purchases

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
WRITERS = 8


@pytest.fixture
def engine(app):
    return app.extensions["database"].engine


@pytest.fixture
def operator_id(engine):
    operator_id = uuid.uuid4()
    yield operator_id
    with Session(engine) as session, session.begin():
        session.execute(delete(Purchase).where(Purchase.operator_id == operator_id))
        for model in (PricingRule, PromoCode, Discount):
            session.execute(delete(model).where(model.operator_id == operator_id))


def race(engine, command, count=WRITERS) -> list:
    """Run ``command(session, i)`` in ``count`` threads at once, each in its own transaction; their outcomes."""
    barrier = threading.Barrier(count)
    outcomes = [None] * count

    def writer(i):
        with Session(engine) as session:
            session.connection()  # connect and begin before the start line, so the writes really overlap
            barrier.wait(timeout=10)
            try:
                command(session, i)
                session.commit()
                outcomes[i] = "won"
            except Conflict:
                session.rollback()
                outcomes[i] = "conflict"
            except Exception as exc:  # anything else is a failure of the test
                session.rollback()
                outcomes[i] = repr(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


@pytest.mark.parametrize(
    "windows",
    [
        [(None, None)] * WRITERS,  # all unbounded
        [
            (NOW + dt.timedelta(hours=i), NOW + dt.timedelta(days=2)) for i in range(WRITERS)
        ],  # staggered, all overlapping
    ],
)
def test_exactly_one_of_concurrent_overlapping_rules_wins(engine, known_projects, operator_id, windows):
    def create(session, i):
        valid_from, valid_until = windows[i]
        pricing_rules.create_rule(
            session=session,
            projects=known_projects.client,
            operator_id=operator_id,
            price_per_photo_cents=100 + i,
            valid_from=valid_from,
            valid_until=valid_until,
        )

    outcomes = race(engine, create)
    assert sorted(outcomes) == ["conflict"] * (WRITERS - 1) + ["won"], outcomes
    with Session(engine) as session:
        assert len(session.scalars(select(PricingRule).where(PricingRule.operator_id == operator_id)).all()) == 1


def test_concurrent_activations_of_overlapping_rules(engine, known_projects, operator_id):
    with Session(engine) as session, session.begin():
        ids = [
            pricing_rules.create_rule(
                session=session,
                projects=known_projects.client,
                operator_id=operator_id,
                price_per_photo_cents=100 + i,
                is_active=False,
            ).id
            for i in range(WRITERS)
        ]

    outcomes = race(
        engine,
        lambda session, i: pricing_rules.update_rule(
            session=session, operator_id=operator_id, rule_id=ids[i], changes={"is_active": True}
        ),
    )
    assert sorted(outcomes) == ["conflict"] * (WRITERS - 1) + ["won"], outcomes


def test_exactly_one_of_concurrent_same_codes_wins(engine, operator_id):
    with Session(engine) as session, session.begin():
        discount_id = discounts.create_discount(
            session=session, operator_id=operator_id, name="D", type="percentage", value=10
        ).id

    outcomes = race(
        engine,
        lambda session, i: promo_codes.create_promo_code(
            session=session, operator_id=operator_id, code="race" if i % 2 else "RACE", discount_id=discount_id
        ),
    )
    assert sorted(outcomes) == ["conflict"] * (WRITERS - 1) + ["won"], outcomes


@pytest.mark.parametrize(
    "limits, same_participant", [({"max_uses": 1}, False), ({"max_uses_per_user": 1}, True), ({"max_uses": 3}, False)]
)
def test_concurrent_checkouts_never_overuse_a_promo_code(engine, factories, operator_id, limits, same_participant):
    project = ProjectRef(id=uuid.uuid4(), operator_id=operator_id, name="Gala", status="live")
    with Session(engine) as session, session.begin():
        factories.make_pricing_rule(session, operator_id=operator_id, price_per_photo_cents=500)
        code_id = factories.make_promo_code(session, operator_id=operator_id, code="ONCE", **limits).id
    participant = uuid.uuid4()

    def checkout(session, i):
        photo = uuid.uuid4()
        buyer = participant if same_participant else uuid.uuid4()
        purchases.open_purchase(
            session=session,
            facts=CheckoutFacts(project=project, member=True, photographers={photo: uuid.uuid4()}),
            participant={"id": buyer, "email": "p@x.io", "name": "P"},
            photo_ids=[photo],
            promo_code="once",
            currency="EUR",
            now=NOW,
        )

    outcomes = race(engine, checkout)
    assert outcomes == ["won"] * WRITERS, outcomes
    expected = limits.get("max_uses") or 1
    with Session(engine) as session:
        applied = session.scalars(select(Purchase.applied_promo_code).where(Purchase.operator_id == operator_id)).all()
        assert (applied.count("ONCE"), applied.count(None)) == (expected, WRITERS - expected)
        assert session.get(PromoCode, code_id).times_used == expected
        assert (
            len(session.scalars(select(PromoCodeRedemption).where(PromoCodeRedemption.promo_code_id == code_id)).all())
            == expected
        )
