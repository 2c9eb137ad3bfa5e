"""Issue 9 item 13: an operator's currency is fixed once it has a purchase (revenue would otherwise add amounts
in two currencies): PATCH /v1/operators/me with a new currency → 409 and nothing changed; the same currency
and other fields stay patchable; commerce down during a currency change → 503 and nothing changed. Auth learns
it from commerce's GET /internal/operators/:id/has-purchases."""

import uuid

import pytest
import requests
from sqlalchemy import text

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token

FIXED = {
    "code": 409,
    "status": "Conflict",
    "errors": {},
    "message": "The currency cannot change once the operator has purchases: revenue would add amounts in "
    "different currencies. Other fields can still be changed.",
}


def _service():
    return {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'checkout-page')}"}


def _profile_row(databases, operator):
    with databases["auth"].connect() as connection:
        return connection.execute(
            text(
                "SELECT a.name, a.updated_at, p.currency, p.locale FROM accounts a "
                "JOIN operator_profiles p ON p.account_id = a.id WHERE a.id = :id"
            ),
            {"id": operator.id},
        ).one()


@pytest.fixture
def buy(stack, gw, feed, ready_photos, photographer, new_project):
    """``buy(operator)``: a pending purchase of one photo from a new priced project of the operator."""

    def purchase(owner):
        project = new_project(owner, type="public", status="live")
        assert (
            gw.post(
                "/v1/pricing/rules", token=owner.token, json={"pricePerPhotoCents": 500, "projectId": project["id"]}
            ).status_code
            == 201
        )
        member = feed.participant()
        assert feed.join(project["id"], member).status_code == 201
        response = requests.post(
            f"{stack.service_url('commerce')}/internal/checkout",
            headers=_service(),
            timeout=30,
            json={
                "projectId": project["id"],
                "participant": member,
                "photoIds": ready_photos(project["id"], photographer.id, 1),
            },
        )
        assert response.status_code == 201, response.text
        return response.json()

    return purchase


def _has_purchases(stack, operator_id):
    return requests.get(
        f"{stack.service_url('commerce')}/internal/operators/{operator_id}/has-purchases",
        headers=_service(),
        timeout=10,
    )


def test_the_currency_is_fixed_once_the_operator_has_a_purchase(gw, databases, operator, other_operator, buy):
    changed = gw.patch("/v1/operators/me", token=operator.token, json={"currency": "CHF"})
    assert changed.status_code == 200 and changed.json()["currency"] == "CHF"
    buy(other_operator)  # another operator's purchases fix nothing here
    assert gw.patch("/v1/operators/me", token=operator.token, json={"currency": "GBP"}).status_code == 200
    buy(operator)
    before = _profile_row(databases, operator)
    for body in ({"currency": "USD"}, {"currency": "EUR", "name": "Renamed", "locale": "fr"}):
        refused = gw.patch("/v1/operators/me", token=operator.token, json=body)
        assert refused.status_code == 409 and refused.json() == FIXED
    assert _profile_row(databases, operator) == before
    assert gw.get("/v1/operators/me", token=operator.token).json()["currency"] == "GBP"
    # The same currency again, and every other field, are still fine.
    same = gw.patch("/v1/operators/me", token=operator.token, json={"currency": "GBP", "name": "Renamed"})
    assert same.status_code == 200 and (same.json()["currency"], same.json()["name"]) == ("GBP", "Renamed")
    other = gw.patch("/v1/operators/me", token=operator.token, json={"locale": "fr-ch", "timezone": "Europe/Zurich"})
    assert other.status_code == 200 and (other.json()["locale"], other.json()["currency"]) == ("fr-CH", "GBP")


@pytest.mark.parametrize("outcome", ["failed", "refunded"])
def test_any_purchase_counts_whatever_its_status(gw, databases, operator, buy, outcome):
    purchase = buy(operator)
    with databases["commerce"].begin() as connection:
        connection.execute(
            text("UPDATE purchases SET status = :s WHERE id = :id"), {"s": outcome, "id": purchase["id"]}
        )
    assert gw.patch("/v1/operators/me", token=operator.token, json={"currency": "USD"}).status_code == 409


def test_commerce_down_during_a_currency_change_is_503_and_changes_nothing(gw, stack, databases, operator):
    before = _profile_row(databases, operator)
    stack.stop_service("commerce")
    try:
        down = gw.patch("/v1/operators/me", token=operator.token, json={"currency": "USD", "name": "Renamed"})
        # Commerce isn't asked when the currency does not change.
        unasked = gw.patch("/v1/operators/me", token=operator.token, json={"currency": "EUR", "locale": "de"})
    finally:
        stack.start_service("commerce")
    assert down.status_code == 503
    assert down.json()["code"] == 503 and set(down.json()) == {"code", "status", "message", "errors"}
    assert unasked.status_code == 200 and unasked.json()["locale"] == "de"
    after = _profile_row(databases, operator)
    assert (after.name, after.currency) == (before.name, before.currency) == ("Lumen Studio", "EUR")
    assert gw.patch("/v1/operators/me", token=operator.token, json={"currency": "USD"}).status_code == 200


def test_the_internal_answer(gw, stack, operator, buy):
    assert _has_purchases(stack, operator.id).json() == {"hasPurchases": False}
    buy(operator)
    answer = _has_purchases(stack, operator.id)
    assert answer.status_code == 200 and answer.json() == {"hasPurchases": True}
    assert _has_purchases(stack, uuid.uuid4()).json() == {"hasPurchases": False}
    path = f"/internal/operators/{operator.id}/has-purchases"
    for headers in ({}, operator.headers):
        refused = requests.get(f"{stack.service_url('commerce')}{path}", headers=headers, timeout=10)
        assert refused.status_code == 401
    assert gw.get(path, token=operator.token).status_code == 404  # never through the gateway
