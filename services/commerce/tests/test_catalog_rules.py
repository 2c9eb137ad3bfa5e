"""Pricing rules, discounts, promo codes and project links as domain functions on the real database."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select

from backoffice_common.errors import Conflict, NotFound, Unprocessable
from commerce_service.discounts import rules as discounts
from commerce_service.models import PricingRule, ProjectDiscount, PromoCode, PromoCodeRedemption
from commerce_service.pricing import engine as pricing
from commerce_service.pricing import rules as pricing_rules
from commerce_service.projects.rules import project_deleted
from commerce_service.promo_codes import rules as promo_codes

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture
def rule(db_session, known_projects, operator_id):
    def create(**fields):
        return pricing_rules.create_rule(
            session=db_session,
            projects=known_projects.client,
            operator_id=operator_id,
            **{"price_per_photo_cents": 499, **fields},
        )

    return create


@pytest.fixture
def discount(db_session, operator_id):
    def create(**fields):
        return discounts.create_discount(
            session=db_session,
            operator_id=operator_id,
            **{"name": "Ten off", "type": "percentage", "value": 10, **fields},
        )

    return create


# --- pricing rules -----------------------------------------------------------------------------------------------


def test_operator_default_rules_may_not_overlap(rule):
    rule(valid_until=NOW)
    rule(valid_from=NOW)  # [.., NOW) and [NOW, ..) touch without overlapping
    with pytest.raises(Conflict):
        rule(valid_from=NOW - DAY, valid_until=NOW + DAY)
    with pytest.raises(Conflict):
        rule()  # unbounded overlaps everything


def test_scopes_are_independent(db_session, rule, known_projects, operator_id):
    rule()
    first, second = known_projects.add(operator_id), known_projects.add(operator_id)
    rule(project_id=first.id)
    rule(project_id=second.id)
    with pytest.raises(Conflict):
        rule(project_id=first.id, valid_from=NOW)
    # Another operator's default is another scope.
    pricing_rules.create_rule(
        session=db_session, projects=known_projects.client, operator_id=uuid.uuid4(), price_per_photo_cents=1
    )


def test_inactive_rules_may_overlap_but_not_be_activated(db_session, rule, operator_id):
    rule()
    dormant = rule(is_active=False, price_per_photo_cents=999)
    with pytest.raises(Conflict):
        pricing_rules.update_rule(
            session=db_session, operator_id=operator_id, rule_id=dormant.id, changes={"is_active": True}
        )
    assert db_session.get(PricingRule, dormant.id).is_active is False


def test_rule_invariants(db_session, rule, operator_id):
    with pytest.raises(Unprocessable) as failure:
        rule(price_per_photo_cents=500, compare_at_price_cents=500)
    assert failure.value.errors == {"json": {"compareAtPriceCents": ["Must be greater than pricePerPhotoCents."]}}
    with pytest.raises(Unprocessable) as failure:
        rule(valid_from=NOW, valid_until=NOW)
    assert "validUntil" in failure.value.errors["json"]
    created = rule(price_per_photo_cents=500, compare_at_price_cents=800)
    # The merged row is checked: raising the price to the compare-at price is refused.
    with pytest.raises(Unprocessable):
        pricing_rules.update_rule(
            session=db_session, operator_id=operator_id, rule_id=created.id, changes={"price_per_photo_cents": 800}
        )
    assert db_session.get(PricingRule, created.id).price_per_photo_cents == 500
    updated = pricing_rules.update_rule(
        session=db_session,
        operator_id=operator_id,
        rule_id=created.id,
        changes={"price_per_photo_cents": 800, "compare_at_price_cents": None},
    )
    assert (updated.price_per_photo_cents, updated.compare_at_price_cents) == (800, None)


def test_rule_for_a_project_not_the_operators_is_404(rule, known_projects):
    foreign = known_projects.add(uuid.uuid4())
    for project_id in (foreign.id, uuid.uuid4()):
        with pytest.raises(NotFound) as failure:
            rule(project_id=project_id)
        assert failure.value.errors == {"json": {"projectId": ["Project not found."]}}


def test_another_operators_rule_does_not_exist(db_session, rule):
    created = rule()
    stranger = uuid.uuid4()
    with pytest.raises(NotFound):
        pricing_rules.update_rule(session=db_session, operator_id=stranger, rule_id=created.id, changes={})
    with pytest.raises(NotFound):
        pricing_rules.delete_rule(session=db_session, operator_id=stranger, rule_id=created.id)
    assert pricing_rules.list_rules(session=db_session, operator_id=stranger) == []


def test_price_for_prefers_the_project_rule_then_the_default(db_session, rule, known_projects, operator_id):
    project = known_projects.add(operator_id)

    def price(at):
        found = pricing.price_for(session=db_session, operator_id=operator_id, project_id=project.id, at=at)
        return found.price_per_photo_cents if found else None

    assert price(NOW) is None
    rule(price_per_photo_cents=500, valid_from=NOW - 10 * DAY)
    rule(project_id=project.id, price_per_photo_cents=300, valid_from=NOW, valid_until=NOW + DAY)
    rule(project_id=project.id, price_per_photo_cents=1, is_active=False)
    assert price(NOW - 11 * DAY) is None
    assert price(NOW - DAY) == 500
    assert price(NOW) == 300
    assert price(NOW + DAY) == 500


# --- discounts and links -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"type": "percentage", "value": 101}, "value"),
        ({"type": "bundle", "value": 0, "bundle_min_photos": 3}, "value"),
        ({"type": "fixed", "value": 0}, "value"),
        ({"type": "bundle", "value": 20}, "bundleMinPhotos"),
        ({"type": "bundle", "value": 20, "bundle_min_photos": 1}, "bundleMinPhotos"),
        ({"valid_from": NOW, "valid_until": NOW - DAY}, "validUntil"),
    ],
)
def test_discount_invariants(discount, fields, field):
    with pytest.raises(Unprocessable) as failure:
        discount(**fields)
    assert list(failure.value.errors["json"]) == [field]


def test_bundle_size_is_ignored_for_other_types(discount):
    assert discount(type="fixed", value=500, bundle_min_photos=1).bundle_min_photos is None
    assert discount(type="bundle", value=20, bundle_min_photos=5).bundle_min_photos == 5


def test_discount_in_use_cannot_be_deleted(db_session, discount, known_projects, operator_id):
    project = known_projects.add(operator_id)
    linked, coded, free = discount(), discount(), discount()
    discounts.link_discount(
        session=db_session,
        projects=known_projects.client,
        operator_id=operator_id,
        project_id=project.id,
        discount_id=linked.id,
    )
    promo_codes.create_promo_code(session=db_session, operator_id=operator_id, code="SAVE", discount_id=coded.id)
    for used in (linked, coded):
        with pytest.raises(Conflict):
            discounts.delete_discount(session=db_session, operator_id=operator_id, discount_id=used.id)
    discounts.delete_discount(session=db_session, operator_id=operator_id, discount_id=free.id)
    assert {d.id for d in discounts.list_discounts(session=db_session, operator_id=operator_id)} == {
        coded.id,
        linked.id,
    }


def test_links_are_idempotent_and_scoped(db_session, discount, known_projects, operator_id):
    project = known_projects.add(operator_id)
    first, second = discount(), discount(name="Second")
    for discount_id in (first.id, second.id, first.id):
        discounts.link_discount(
            session=db_session,
            projects=known_projects.client,
            operator_id=operator_id,
            project_id=project.id,
            discount_id=discount_id,
        )
    listed = discounts.project_discounts(
        session=db_session, projects=known_projects.client, operator_id=operator_id, project_id=project.id
    )
    assert {d.id for d in listed} == {first.id, second.id}
    discounts.unlink_discount(
        session=db_session,
        projects=known_projects.client,
        operator_id=operator_id,
        project_id=project.id,
        discount_id=first.id,
    )
    discounts.unlink_discount(
        session=db_session,
        projects=known_projects.client,
        operator_id=operator_id,
        project_id=project.id,
        discount_id=first.id,
    )  # not linked any more: a no-op
    assert [
        d.id
        for d in discounts.project_discounts(
            session=db_session, projects=known_projects.client, operator_id=operator_id, project_id=project.id
        )
    ] == [second.id]
    stranger = uuid.uuid4()
    with pytest.raises(NotFound):
        discounts.project_discounts(
            session=db_session, projects=known_projects.client, operator_id=stranger, project_id=project.id
        )
    with pytest.raises(NotFound) as failure:
        discounts.link_discount(
            session=db_session,
            projects=known_projects.client,
            operator_id=stranger,
            project_id=known_projects.add(stranger).id,
            discount_id=first.id,
        )
    assert failure.value.errors == {"json": {"discountId": ["Discount not found."]}}


def test_deleted_project_loses_rules_and_links_and_stays_gone(db_session, rule, discount, known_projects, operator_id):
    project, kept = known_projects.add(operator_id), known_projects.add(operator_id)
    rule(project_id=project.id)
    kept_rule = rule(project_id=kept.id)
    offered = discount()
    discounts.link_discount(
        session=db_session,
        projects=known_projects.client,
        operator_id=operator_id,
        project_id=project.id,
        discount_id=offered.id,
    )
    project_deleted(session=db_session, project_id=project.id)
    project_deleted(session=db_session, project_id=project.id)  # idempotent
    assert [r.id for r in pricing_rules.list_rules(session=db_session, operator_id=operator_id)] == [kept_rule.id]
    assert (
        db_session.scalar(
            select(func.count()).select_from(ProjectDiscount).where(ProjectDiscount.project_id == project.id)
        )
        == 0
    )
    # The projects service's answer may still be cached: the tombstone refuses new rows all the same.
    with pytest.raises(NotFound):
        rule(project_id=project.id)
    with pytest.raises(NotFound):
        discounts.link_discount(
            session=db_session,
            projects=known_projects.client,
            operator_id=operator_id,
            project_id=project.id,
            discount_id=offered.id,
        )
    discounts.delete_discount(session=db_session, operator_id=operator_id, discount_id=offered.id)


# --- promo codes -------------------------------------------------------------------------------------------------


def test_codes_are_upper_case_and_unique_per_operator_ignoring_case(db_session, discount, operator_id):
    offered = discount()
    created = promo_codes.create_promo_code(
        session=db_session, operator_id=operator_id, code="Summer-20", discount_id=offered.id
    )
    assert (created.code, created.times_used, created.is_active) == ("SUMMER-20", 0, True)
    with pytest.raises(Conflict):
        promo_codes.create_promo_code(
            session=db_session, operator_id=operator_id, code="summer-20", discount_id=offered.id
        )
    other = uuid.uuid4()
    theirs = discounts.create_discount(session=db_session, operator_id=other, name="X", type="fixed", value=100)
    promo_codes.create_promo_code(session=db_session, operator_id=other, code="SUMMER-20", discount_id=theirs.id)
    with pytest.raises(NotFound) as failure:  # another operator's discount does not exist for us
        promo_codes.create_promo_code(session=db_session, operator_id=operator_id, code="MINE", discount_id=theirs.id)
    assert failure.value.errors == {"json": {"discountId": ["Discount not found."]}}


def test_promo_code_update_checks_the_merged_window(db_session, discount, operator_id):
    created = promo_codes.create_promo_code(
        session=db_session, operator_id=operator_id, code="WINDOW", discount_id=discount().id, valid_from=NOW
    )
    with pytest.raises(Unprocessable):
        promo_codes.update_promo_code(
            session=db_session, operator_id=operator_id, promo_code_id=created.id, changes={"valid_until": NOW - DAY}
        )
    updated = promo_codes.update_promo_code(
        session=db_session,
        operator_id=operator_id,
        promo_code_id=created.id,
        changes={"max_uses": 5, "max_uses_per_user": None, "is_active": False},
    )
    assert (updated.max_uses, updated.is_active) == (5, False)


# --- the quote with its inputs from the database -----------------------------------------------------------------


def test_quote(db_session, rule, discount, known_projects, operator_id):
    project = known_projects.add(operator_id)
    participant = uuid.uuid4()
    known_projects.add_member(project.id, participant)
    photos = known_projects.add_photos(project.id, uuid.uuid4(), 4)

    def quote(**kw):
        return pricing.quote(
            session=db_session,
            projects=known_projects.client,
            project_id=project.id,
            participant_id=participant,
            photo_ids=photos,
            now=NOW,
            **kw,
        )

    with pytest.raises(Conflict):
        quote()
    rule(price_per_photo_cents=250)
    bundle = discount(type="bundle", value=10, bundle_min_photos=4)
    discounts.link_discount(
        session=db_session,
        projects=known_projects.client,
        operator_id=operator_id,
        project_id=project.id,
        discount_id=bundle.id,
    )
    promo = promo_codes.create_promo_code(
        session=db_session,
        operator_id=operator_id,
        code="TENOFF",
        discount_id=discount(type="fixed", value=100).id,
        max_uses_per_user=1,
    )
    plain = quote()
    assert (
        plain.photo_count,
        plain.subtotal_cents,
        plain.discount_applied_cents,
        plain.total_cents,
        plain.applied_promo_code,
    ) == (4, 1000, 100, 900, None)
    with_code = quote(promo_code="tenoff")  # a tie: the promo code wins
    assert (with_code.discount_applied_cents, with_code.applied_promo_code, with_code.promo_code) == (
        100,
        "TENOFF",
        promo,
    )
    assert quote(promo_code="NOPE").applied_promo_code is None
    db_session.add(PromoCodeRedemption(promo_code_id=promo.id, participant_id=participant))
    db_session.flush()
    assert quote(promo_code="TENOFF").applied_promo_code is None  # this participant used it up
    with pytest.raises(NotFound):
        pricing.quote(
            session=db_session,
            projects=known_projects.client,
            project_id=uuid.uuid4(),
            participant_id=participant,
            photo_ids=photos,
            now=NOW,
        )


def test_quote_counts_no_use(db_session, rule, discount, known_projects, operator_id):
    project = known_projects.add(operator_id)
    rule()
    promo = promo_codes.create_promo_code(
        session=db_session, operator_id=operator_id, code="ONCE", discount_id=discount().id, max_uses=1
    )
    participant = uuid.uuid4()
    known_projects.add_member(project.id, participant)
    pricing.quote(
        session=db_session,
        projects=known_projects.client,
        project_id=project.id,
        participant_id=participant,
        photo_ids=known_projects.add_photos(project.id, uuid.uuid4()),
        promo_code="ONCE",
        now=NOW,
    )
    assert db_session.get(PromoCode, promo.id).times_used == 0
