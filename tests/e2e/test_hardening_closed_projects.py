"""Issue 9 item 1: `live → closed` "prevents new joins; existing members retain access" — members of a closed
project still get quotes and buy, nobody new joins, and photographers may still upload (late uploads)."""

import pytest
import requests
from sqlalchemy import text

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token

NOT_BUYABLE = "Photos can only be bought from a live project (or a closed one, by its members); this one is {}."


def _headers():
    return {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'checkout-page')}"}


def _purchases(databases, project_id) -> int:
    with databases["commerce"].connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM purchases WHERE project_id = :p"), {"p": project_id}
        ).scalar()


@pytest.fixture
def shop(gw, stack, feed, ready_photos, operator, photographer, new_project):
    """A public live project at 400 a photo with the photographer assigned, a member, and three ready photos."""
    project = new_project(operator, type="public", status="live")
    assert gw.post("/v1/pricing/rules", token=operator.token, json={"pricePerPhotoCents": 400}).status_code == 201
    assert (
        gw.post(
            f"/v1/projects/{project['id']}/photographers",
            token=operator.token,
            json={"photographerId": photographer.id},
        ).status_code
        == 204
    )
    member = feed.participant()
    assert feed.join(project["id"], member).status_code == 201
    photos = ready_photos(project["id"], photographer.id, 3)

    def call(route, participant=member, photo_ids=None):
        return requests.post(
            f"{stack.service_url('commerce')}/internal/checkout{route}",
            headers=_headers(),
            timeout=30,
            json={
                "projectId": project["id"],
                "participant": participant,
                "photoIds": photos[:2] if photo_ids is None else photo_ids,
            },
        )

    return type(
        "Shop",
        (),
        {
            "project": project,
            "member": member,
            "photos": photos,
            "quote": staticmethod(lambda **kw: call("/quote", **kw)),
            "checkout": staticmethod(lambda **kw: call("", **kw)),
        },
    )


def _move(gw, operator, project, *statuses):
    for status in statuses:
        response = gw.patch(f"/v1/projects/{project['id']}/status", token=operator.token, json={"status": status})
        assert response.status_code == 200, response.text


def test_members_of_a_closed_project_still_quote_and_buy(gw, databases, operator, shop):
    _move(gw, operator, shop.project, "closed")
    quote = shop.quote()
    assert quote.status_code == 200, quote.text
    assert quote.json() == {
        "pricePerPhotoCents": 400,
        "subtotalCents": 800,
        "discountAppliedCents": 0,
        "totalCents": 800,
        "appliedPromoCode": None,
    }
    bought = shop.checkout()
    assert bought.status_code == 201, bought.text
    body = bought.json()
    assert (body["status"], body["totalCents"], body["project"]["id"]) == ("pending", 800, shop.project["id"])
    assert body["clientSecret"]
    assert sorted(d["photoId"] for d in body["downloads"]) == sorted(shop.photos[:2])
    assert _purchases(databases, shop.project["id"]) == 1
    assert gw.get(f"/v1/purchases/{body['id']}", token=operator.token).json()["status"] == "pending"


def test_nobody_new_joins_a_closed_project_nor_buys_from_it(gw, databases, feed, operator, shop):
    _move(gw, operator, shop.project, "closed")
    newcomer = feed.participant()
    joined = feed.join(shop.project["id"], newcomer)
    assert joined.status_code == 409
    assert joined.json()["message"] == "Participants can only join a live project; this one is closed."
    for answer in (shop.quote(participant=newcomer), shop.checkout(participant=newcomer)):
        assert answer.status_code == 403
        assert answer.json() == {
            "code": 403,
            "status": "Forbidden",
            "errors": {},
            "message": "The participant is not a member of this project.",
        }
    assert _purchases(databases, shop.project["id"]) == 0


@pytest.mark.parametrize("path", [["draft"], ["closed", "archived"]])
def test_draft_and_archived_projects_sell_nothing(gw, databases, operator, shop, path):
    _move(gw, operator, shop.project, *path)
    for answer in (shop.quote(), shop.checkout()):
        assert answer.status_code == 409
        assert answer.json() == {
            "code": 409,
            "status": "Conflict",
            "errors": {},
            "message": NOT_BUYABLE.format(path[-1]),
        }
    assert _purchases(databases, shop.project["id"]) == 0


def test_photographers_still_upload_to_a_closed_project(gw, databases, operator, photographer, shop):
    _move(gw, operator, shop.project, "closed")
    started = gw.post(
        f"/v1/photographers/me/projects/{shop.project['id']}/photos",
        token=photographer.token,
        json={"filename": "late.jpg", "contentType": "image/jpeg", "sizeBytes": 11},
    )
    assert started.status_code == 201, started.text
    upload = started.json()
    assert (
        requests.put(
            upload["uploadUrl"], data=b"hello world", headers={"Content-Type": "image/jpeg"}, timeout=10
        ).status_code
        == 200
    )
    done = gw.post(
        f"/v1/photographers/me/projects/{shop.project['id']}/photos/{upload['id']}/complete", token=photographer.token
    )
    assert done.status_code == 200 and done.json() == {"id": upload["id"], "status": "ready"}
    detail = gw.get(f"/v1/projects/{shop.project['id']}", token=operator.token).json()
    assert (detail["status"], detail["photoCount"]) == ("closed", 4)
    # The late photo is for sale to the project's members like the others.
    bought = shop.checkout(photo_ids=[upload["id"]])
    assert bought.status_code == 201, bought.text
    assert [d["photoId"] for d in bought.json()["downloads"]] == [upload["id"]]
    # Archived is the end: no more uploads.
    _move(gw, operator, shop.project, "archived")
    late = gw.post(
        f"/v1/photographers/me/projects/{shop.project['id']}/photos",
        token=photographer.token,
        json={"filename": "later.jpg", "contentType": "image/jpeg", "sizeBytes": 11},
    )
    assert late.status_code == 404
