"""What commerce asks of projects: the facts a checkout checks, and project names for a purchase list."""

import uuid

import pytest

from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token
from services.projects.tests.factories import make_member, make_photo, make_photographer, make_project

SERVICE = {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'commerce')}"}


@pytest.fixture
def gala(db_session):
    operator_id = uuid.uuid4()
    photographer = make_photographer(db_session, operator_id=operator_id)
    project = make_project(db_session, operator_id=operator_id, name="Gala", status="live")
    member = make_member(db_session, project).participant_id
    photos = [make_photo(db_session, project, photographer, status=status) for status in ["ready", "ready", "pending"]]
    return type("Gala", (), {"project": project, "member": member, "photos": photos, "photographer": photographer})


def test_checkout_lookup(client, db_session, gala):
    other = make_project(db_session, operator_id=gala.project.operator_id, name="Other", type="public", status="live")
    foreign = make_photo(db_session, other, gala.photographer)
    asked = [photo.id for photo in gala.photos] + [foreign.id, uuid.uuid4()]
    response = client.post(
        f"/internal/projects/{gala.project.id}/checkout-lookup",
        headers=SERVICE,
        json={"participantId": str(gala.member), "photoIds": [str(p) for p in asked]},
    )
    assert response.status_code == 200
    body = response.json
    assert sorted(body["photos"], key=lambda p: p["id"]) == sorted(
        [{"id": str(photo.id), "photographerId": str(gala.photographer.id)} for photo in gala.photos[:2]],
        key=lambda p: p["id"],
    )
    assert {k: v for k, v in body.items() if k != "photos"} == {
        "id": str(gala.project.id),
        "name": "Gala",
        "status": "live",
        "operatorId": str(gala.project.operator_id),
        "member": True,
    }
    stranger = client.post(
        f"/internal/projects/{gala.project.id}/checkout-lookup",
        headers=SERVICE,
        json={"participantId": str(uuid.uuid4()), "photoIds": [str(gala.photos[0].id)]},
    )
    assert stranger.json["member"] is False
    assert (
        client.post(
            f"/internal/projects/{uuid.uuid4()}/checkout-lookup",
            headers=SERVICE,
            json={"participantId": str(gala.member), "photoIds": [str(uuid.uuid4())]},
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/internal/projects/{gala.project.id}/checkout-lookup",
            headers=SERVICE,
            json={"participantId": "x", "photoIds": []},
        ).status_code
        == 422
    )


def test_project_names(client, gala):
    unknown = uuid.uuid4()
    response = client.post(
        "/internal/projects/lookup",
        headers=SERVICE,
        json={"ids": [str(gala.project.id), str(unknown), str(gala.project.id)]},
    )
    assert response.status_code == 200
    assert response.json == {"projects": [{"id": str(gala.project.id), "name": "Gala"}]}
    assert client.post("/internal/projects/lookup", headers=SERVICE, json={"ids": []}).json == {"projects": []}


@pytest.mark.parametrize("path", ["/internal/projects/lookup", f"/internal/projects/{uuid.uuid4()}/checkout-lookup"])
def test_service_token_required(client, path):
    assert client.post(path, json={}).status_code == 401
