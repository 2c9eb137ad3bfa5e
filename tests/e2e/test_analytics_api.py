"""GET /v1/analytics through the gateway (design §7), on data made through the real services."""

import uuid

import pytest
from sqlalchemy import text


@pytest.fixture
def world(gw, feed, ready_photos, purchase, operator, new_project):
    """Alpha and Beta live, Old archived; Ann and Bob photograph; guests join, are tagged and buy.

    Paid: guest 0 buys two of Ann's Alpha photos (800), guest 1 one of Ann's and one of Bob's (800, 400 each).
    Counted nowhere: guest 0's failed and refunded Beta purchases, guest 2's pending one in Old.
    """
    assert gw.post("/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 400}).status_code == 201
    ann, bob = gw.register_photographer(operator), gw.register_photographer(operator)
    alpha = new_project(operator, name="Alpha", type="public", status="live")
    beta = new_project(operator, name="Beta", type="public", status="live")
    old = new_project(operator, name="Old", type="public", status="live")
    guests = [feed.participant() for _ in range(3)]
    assert (
        gw.post(
            f"/v1/projects/{beta['id']}/invites/bulk",
            token=operator.token,
            json={"emails": [guests[0]["email"], guests[1]["email"], "never@example.com"]},
        ).status_code
        == 202
    )
    for guest in guests:
        assert feed.join(alpha["id"], guest).status_code == 201
    assert feed.join(beta["id"], guests[0]).status_code == 201
    assert feed.join(old["id"], guests[2]).status_code == 201
    alpha_photos = ready_photos(alpha["id"], ann.id, 4) + ready_photos(alpha["id"], bob.id, 1)
    beta_photos = ready_photos(beta["id"], bob.id, 2)
    old_photos = ready_photos(old["id"], ann.id, 5)
    assert feed.tag(alpha_photos[0], guests[:2]).status_code == 204
    assert feed.tag(beta_photos[0], guests[:1]).status_code == 204
    assert feed.tag(old_photos[0], guests[2:]).status_code == 204
    purchase(alpha["id"], guests[0], alpha_photos[:2], "paid")
    purchase(alpha["id"], guests[1], [alpha_photos[2], alpha_photos[4]], "paid")
    purchase(beta["id"], guests[0], beta_photos[:1], "failed")
    purchase(beta["id"], guests[0], beta_photos[1:], "refunded")
    purchase(old["id"], guests[2], old_photos[:1], "pending")
    for status in ("closed", "archived"):
        gw.patch(f"/v1/projects/{old['id']}/status", token=operator.token, json={"status": status})
    return {"ann": ann, "bob": bob, "alpha": alpha, "beta": beta, "old": old, "guests": guests}


def _analytics(gw, operator, **params):
    response = gw.get("/v1/analytics", token=operator.token, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_operator_without_projects_sees_zeros(gw, operator):
    assert _analytics(gw, operator) == {
        "kpis": {"membersEnrolled": 0, "revenueInCents": 0, "photosUploaded": 0, "usersTagged": 0, "purchasesMade": 0},
        "photosByPhotographer": [],
        "revenueByProject": [],
        "conversionFunnel": {"invited": 0, "enrolled": 0, "tagged": 0, "purchased": 0},
    }


def test_figures_over_the_non_archived_projects(gw, operator, world):
    body = _analytics(gw, operator)
    assert body["kpis"] == {
        "membersEnrolled": 3,
        "revenueInCents": 1600,
        "photosUploaded": 7,
        "usersTagged": 2,
        "purchasesMade": 2,
    }
    assert body["photosByPhotographer"] == [
        {"name": world["ann"].name, "photoCount": 4},
        {"name": world["bob"].name, "photoCount": 3},
    ]
    assert body["revenueByProject"] == [
        {"projectName": "Alpha", "purchasesMade": 2, "revenueInCents": 1600},
        {"projectName": "Beta", "purchasesMade": 0, "revenueInCents": 0},
    ]
    assert body["conversionFunnel"] == {"invited": 3, "enrolled": 3, "tagged": 2, "purchased": 2}


def test_scoped_to_named_projects_archived_included(gw, operator, other_operator, world, new_project):
    foreign = new_project(other_operator, name="Foreign")
    body = _analytics(gw, operator, projectIds=f"{world['old']['id']},{world['beta']['id']},{foreign['id']}")
    assert body["kpis"] == {
        "membersEnrolled": 2,
        "revenueInCents": 0,
        "photosUploaded": 7,
        "usersTagged": 2,
        "purchasesMade": 0,
    }
    assert [row["projectName"] for row in body["revenueByProject"]] == ["Beta", "Old"]
    assert body["conversionFunnel"] == {"invited": 3, "enrolled": 2, "tagged": 2, "purchased": 0}


def test_narrowed_to_photographers(gw, operator, world):
    body = _analytics(gw, operator, photographerIds=world["bob"].id)
    assert body["kpis"] == {
        "membersEnrolled": 3,
        "revenueInCents": 400,
        "photosUploaded": 3,
        "usersTagged": 1,
        "purchasesMade": 1,
    }
    assert body["photosByPhotographer"] == [{"name": world["bob"].name, "photoCount": 3}]
    assert body["revenueByProject"][0] == {"projectName": "Alpha", "purchasesMade": 1, "revenueInCents": 400}
    assert body["conversionFunnel"]["purchased"] == 1


def test_another_operator_sees_none_of_it(gw, other_operator, world):
    assert _analytics(gw, other_operator, projectIds=world["alpha"]["id"])["kpis"] == {
        "membersEnrolled": 0,
        "revenueInCents": 0,
        "photosUploaded": 0,
        "usersTagged": 0,
        "purchasesMade": 0,
    }
    assert _analytics(gw, other_operator)["revenueByProject"] == []


@pytest.mark.parametrize(
    "params, field",
    [({"projectIds": "nope"}, "projectIds"), ({"photographerIds": f"{uuid.uuid4()},12"}, "photographerIds")],
)
def test_malformed_query_is_422(gw, operator, params, field):
    response = gw.get("/v1/analytics", token=operator.token, params=params)
    assert response.status_code == 422
    assert field in response.json()["errors"]["query"]


def test_roles(gw, photographer):
    assert gw.get("/v1/analytics").status_code == 401
    assert gw.get("/v1/analytics", token=photographer.token).status_code == 403


@pytest.mark.parametrize("source", ["projects", "commerce"])
def test_a_source_down_is_503(gw, stack, operator, new_project, source):
    new_project(operator, name="Any")
    stack.stop_service(source)
    try:
        response = gw.get("/v1/analytics", token=operator.token)
    finally:
        stack.start_service(source)
    assert response.status_code == 503 and response.json()["code"] == 503


def test_narrowed_revenue_is_the_photographers_shares(
    gw, feed, databases, ready_photos, purchase, operator, new_project
):
    """1199 cents over three photos (two of Ann's, one of Bob's) do not split evenly: each photographer's
    revenue is exactly the sum of their items' shares, and the two add up to the total."""
    ann, bob = gw.register_photographer(operator), gw.register_photographer(operator)
    project = new_project(operator, name="Uneven", type="public", status="live")
    assert gw.post("/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 400}).status_code == 201
    discount = gw.post("/v1/discounts", token=operator.token, json={"name": "Cent", "type": "fixed", "value": 1}).json()
    assert (
        gw.post(
            f"/v1/projects/{project['id']}/discounts", token=operator.token, json={"discountId": discount["id"]}
        ).status_code
        == 204
    )
    guest = feed.participant()
    assert feed.join(project["id"], guest).status_code == 201
    photos = ready_photos(project["id"], ann.id, 2) + ready_photos(project["id"], bob.id, 1)
    bought = purchase(project["id"], guest, photos, "paid")
    assert bought["totalCents"] == 1199
    with databases["commerce"].connect() as connection:
        shares = dict(
            connection.execute(
                text(
                    "SELECT photographer_id::text, sum(share_cents) FROM purchase_items WHERE purchase_id = :p "
                    "GROUP BY photographer_id"
                ),
                {"p": bought["id"]},
            ).all()
        )
    revenue = {who.id: _analytics(gw, operator, photographerIds=who.id)["kpis"]["revenueInCents"] for who in (ann, bob)}
    assert revenue == shares and sum(revenue.values()) == 1199
    assert sorted(revenue.values()) in ([399, 800], [400, 799])
