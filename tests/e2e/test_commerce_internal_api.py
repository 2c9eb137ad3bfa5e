"""Commerce's internal routes (design §9), reached directly with a service token: the checkout quote, and the
clean-up after a project is deleted (called by the projects worker); plus a projects service that is down."""

import time
import uuid

import pytest
import requests
from sqlalchemy import text

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token

QUOTE_FIELDS = {"pricePerPhotoCents", "subtotalCents", "discountAppliedCents", "totalCents", "appliedPromoCode"}


@pytest.fixture
def commerce(stack):
    return stack.service_url("commerce")


def _service_headers():
    return {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'checkout-page')}"}


@pytest.fixture
def project(new_project, operator):
    """A project a participant can join and buy from (the quote refuses what checkout refuses)."""
    return new_project(operator, type="public", status="live")


@pytest.fixture
def quote(commerce, feed, ready_photos, photographer):
    """``quote(project_id, photos=3, **extra)``: the quote for a member of the project (joined on the first
    call) and that many of its ready photos; an unknown project is asked about with made-up ids."""
    participant = feed.participant()
    stock = {}

    def photos_of(project_id):
        if project_id not in stock:
            joined = feed.join(project_id, participant).status_code == 201
            stock[project_id] = (
                ready_photos(project_id, photographer.id, 3) if joined else [str(uuid.uuid4()) for _ in range(3)]
            )
        return stock[project_id]

    def ask(project_id, photos=3, **extra):
        return requests.post(
            f"{commerce}/internal/checkout/quote",
            headers=_service_headers(),
            timeout=10,
            json={
                "projectId": project_id,
                "participant": participant,
                "photoIds": photos_of(project_id)[:photos],
                **extra,
            },
        )

    ask.participant = participant
    ask.photos_of = photos_of
    return ask


def _post(gw, owner, path, **body):
    response = gw.post(path, token=owner.token, json=body)
    assert response.status_code in (201, 204), response.text
    return response.json() if response.status_code == 201 else None


def _count(databases, sql, **params) -> int:
    with databases["commerce"].connect() as connection:
        return connection.execute(text(sql), params).scalar()


class TestQuote:
    def test_no_price_is_409(self, quote, project):
        response = quote(project["id"])
        assert response.status_code == 409
        assert "No price applies" in response.json()["message"]

    def test_prices_and_discounts(self, gw, databases, quote, operator, project):
        _post(gw, operator, "/v1/pricing/rules", pricePerPhotoCents=500)
        response = quote(project["id"])
        assert response.status_code == 200 and set(response.json()) == QUOTE_FIELDS
        assert response.json() == {
            "pricePerPhotoCents": 500,
            "subtotalCents": 1500,
            "discountAppliedCents": 0,
            "totalCents": 1500,
            "appliedPromoCode": None,
        }
        # A project override beats the operator default.
        _post(gw, operator, "/v1/pricing/rules", pricePerPhotoCents=333, projectId=project["id"])
        bundle = _post(gw, operator, "/v1/discounts", name="Bundle", type="bundle", value=15, bundleMinPhotos=3)
        _post(gw, operator, f"/v1/projects/{project['id']}/discounts", discountId=bundle["id"])
        fixed = _post(gw, operator, "/v1/discounts", name="Fixed", type="fixed", value=150)
        _post(gw, operator, "/v1/promo-codes", code="FLAT150", discountId=fixed["id"], maxUsesPerUser=1)
        # 999 × 15 % = 149.85 → 150 (half up) for the bundle; the promo code's 150 ties and wins.
        assert quote(project["id"]).json() == {
            "pricePerPhotoCents": 333,
            "subtotalCents": 999,
            "discountAppliedCents": 150,
            "totalCents": 849,
            "appliedPromoCode": None,
        }
        assert quote(project["id"], promoCode="flat150").json()["appliedPromoCode"] == "FLAT150"
        # Two photos: no bundle; the promo code alone applies.
        assert quote(project["id"], photos=2, promoCode="FLAT150").json() == {
            "pricePerPhotoCents": 333,
            "subtotalCents": 666,
            "discountAppliedCents": 150,
            "totalCents": 516,
            "appliedPromoCode": "FLAT150",
        }
        assert quote(project["id"], promoCode="UNKNOWN").json()["appliedPromoCode"] is None
        # The participant has used the code once already: it is ignored.
        with databases["commerce"].begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO promo_code_redemptions (id, promo_code_id, participant_id) "
                    "SELECT :id, id, :participant FROM promo_codes WHERE code = 'FLAT150' AND operator_id = :o"
                ),
                {"id": uuid.uuid4(), "participant": quote.participant["id"], "o": operator.id},
            )
        assert quote(project["id"], photos=2, promoCode="FLAT150").json()["appliedPromoCode"] is None
        # A quote takes no use of a code.
        assert _count(databases, "SELECT times_used FROM promo_codes WHERE operator_id = :o", o=operator.id) == 0

    def test_repeated_photos_are_refused_as_checkout_refuses_them(self, gw, commerce, quote, operator, project):
        _post(gw, operator, "/v1/pricing/rules", pricePerPhotoCents=100)
        photo = quote.photos_of(project["id"])[0]
        body = {"projectId": project["id"], "participant": quote.participant, "photoIds": [photo, photo, photo]}
        answers = [
            requests.post(f"{commerce}/internal/checkout{path}", headers=_service_headers(), timeout=10, json=body)
            for path in ("/quote", "")
        ]
        assert [response.status_code for response in answers] == [422, 422]
        assert answers[0].json() == answers[1].json()
        assert answers[0].json()["errors"]["json"] == {"photoIds": ["Must not repeat a photo."]}

    def test_another_operators_promo_code_does_not_apply(self, gw, quote, operator, other_operator, project):
        _post(gw, operator, "/v1/pricing/rules", pricePerPhotoCents=100)
        theirs = _post(gw, other_operator, "/v1/discounts", name="T", type="percentage", value=50)
        _post(gw, other_operator, "/v1/promo-codes", code="THEIRS", discountId=theirs["id"])
        assert quote(project["id"], promoCode="THEIRS").json()["appliedPromoCode"] is None

    def test_unknown_project_and_invalid_body(self, commerce, quote):
        assert quote(str(uuid.uuid4())).status_code == 404
        response = requests.post(
            f"{commerce}/internal/checkout/quote",
            headers=_service_headers(),
            timeout=10,
            json={"projectId": "x", "photoIds": []},
        )
        assert response.status_code == 422
        assert set(response.json()["errors"]["json"]) == {"projectId", "participant", "photoIds"}

    def test_needs_a_service_token(self, gw, commerce, operator):
        for headers in ({}, operator.headers):
            assert (
                requests.post(f"{commerce}/internal/checkout/quote", headers=headers, json={}, timeout=10).status_code
                == 401
            )
        assert gw.post("/internal/checkout/quote", token=operator.token, json={}).status_code == 404


def _wait_until(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_deleting_a_project_drops_its_rules_and_links(gw, databases, operator, new_project):
    doomed, kept = new_project(operator, name="Doomed"), new_project(operator, name="Kept")
    default = _post(gw, operator, "/v1/pricing/rules", pricePerPhotoCents=500)
    _post(gw, operator, "/v1/pricing/rules", pricePerPhotoCents=300, projectId=doomed["id"])
    kept_rule = _post(gw, operator, "/v1/pricing/rules", pricePerPhotoCents=300, projectId=kept["id"])
    discount = _post(gw, operator, "/v1/discounts", name="D", type="percentage", value=10)
    for project in (doomed, kept):
        _post(gw, operator, f"/v1/projects/{project['id']}/discounts", discountId=discount["id"])

    assert gw.delete(f"/v1/projects/{doomed['id']}", token=operator.token).status_code == 204
    assert _wait_until(
        lambda: _count(databases, "SELECT count(*) FROM pricing_rules WHERE project_id = :p", p=doomed["id"]) == 0
    )
    assert _count(databases, "SELECT count(*) FROM project_discounts WHERE project_id = :p", p=doomed["id"]) == 0
    remaining = {rule["id"] for rule in gw.get("/v1/pricing/rules", token=operator.token).json()}
    assert remaining == {default["id"], kept_rule["id"]}
    assert [d["id"] for d in gw.get(f"/v1/projects/{kept['id']}/discounts", token=operator.token).json()] == [
        discount["id"]
    ]
    # Nothing can be attached to the deleted project any more, even while its owner is still cached.
    response = gw.post(
        "/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 1, "projectId": doomed["id"]}
    )
    assert response.status_code == 404
    assert (
        gw.post(
            f"/v1/projects/{doomed['id']}/discounts", token=operator.token, json={"discountId": discount["id"]}
        ).status_code
        == 404
    )


def test_project_cleanup_is_idempotent(commerce):
    for _ in range(2):
        response = requests.delete(
            f"{commerce}/internal/projects/{uuid.uuid4()}", headers=_service_headers(), timeout=10
        )
        assert response.status_code == 204


def test_projects_down_is_503_and_changes_nothing(gw, stack, databases, operator):
    unseen = str(uuid.uuid4())  # never looked up, so no cached answer can hide the outage
    stack.stop_service("projects")
    try:
        response = gw.post(
            "/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 1, "projectId": unseen}
        )
        assert response.status_code == 503 and response.json()["code"] == 503
        assert gw.get(f"/v1/projects/{unseen}/discounts", token=operator.token).status_code == 503
    finally:
        stack.start_service("projects")
    assert _count(databases, "SELECT count(*) FROM pricing_rules WHERE operator_id = :o", o=operator.id) == 0
