"""What commerce asks of projects: the facts a checkout checks, and project names for a purchase list."""
import uuid

import pytest
from backoffice_common.config import DEV_INTERNAL_SECRET
from backoffice_common.internal import make_service_token

from projects_service.models import Member, Photo, Photographer, Project

SERVICE = {"Authorization": f"Bearer {make_service_token(DEV_INTERNAL_SECRET, 'commerce')}"}


@pytest.fixture
def gala(db_session):
    operator_id = uuid.uuid4()
    photographer = Photographer(id=uuid.uuid4(), operator_id=operator_id, name="Pat", email=f"{uuid.uuid4()}@x.io")
    project = Project(id=uuid.uuid4(), operator_id=operator_id, name="Gala", type="private", status="live")
    db_session.add_all([photographer, project])
    db_session.flush()
    member = uuid.uuid4()
    db_session.add(Member(project_id=project.id, participant_id=member, email="m@x.io"))
    photos = [Photo(id=uuid.uuid4(), project_id=project.id, photographer_id=photographer.id,
                    object_key=f"{project.id}/{i}", filename="a.jpg", content_type="image/jpeg", size_bytes=1,
                    status=status) for i, status in enumerate(["ready", "ready", "pending"])]
    db_session.add_all(photos)
    db_session.flush()
    return type("Gala", (), {"project": project, "member": member, "photos": photos, "photographer": photographer})


def test_checkout_lookup(client, db_session, gala):
    other = Project(id=uuid.uuid4(), operator_id=gala.project.operator_id, name="Other", type="public", status="live")
    db_session.add(other)
    db_session.flush()
    foreign = Photo(id=uuid.uuid4(), project_id=other.id, photographer_id=gala.photographer.id, object_key="o/1",
                    filename="b.jpg", content_type="image/jpeg", size_bytes=1, status="ready")
    db_session.add(foreign)
    db_session.flush()
    asked = [photo.id for photo in gala.photos] + [foreign.id, uuid.uuid4()]
    response = client.post(f"/internal/projects/{gala.project.id}/checkout-lookup", headers=SERVICE,
                           json={"participantId": str(gala.member), "photoIds": [str(p) for p in asked]})
    assert response.status_code == 200
    body = response.json
    assert sorted(body["photos"], key=lambda p: p["id"]) == sorted(
        [{"id": str(photo.id), "photographerId": str(gala.photographer.id)} for photo in gala.photos[:2]],
        key=lambda p: p["id"])
    assert {k: v for k, v in body.items() if k != "photos"} == {
        "id": str(gala.project.id), "name": "Gala", "status": "live",
        "operatorId": str(gala.project.operator_id), "member": True}
    stranger = client.post(f"/internal/projects/{gala.project.id}/checkout-lookup", headers=SERVICE,
                           json={"participantId": str(uuid.uuid4()), "photoIds": [str(gala.photos[0].id)]})
    assert stranger.json["member"] is False
    assert client.post(f"/internal/projects/{uuid.uuid4()}/checkout-lookup", headers=SERVICE,
                       json={"participantId": str(gala.member), "photoIds": [str(uuid.uuid4())]}).status_code == 404
    assert client.post(f"/internal/projects/{gala.project.id}/checkout-lookup", headers=SERVICE,
                       json={"participantId": "x", "photoIds": []}).status_code == 422


def test_project_names(client, gala):
    unknown = uuid.uuid4()
    response = client.post("/internal/projects/lookup", headers=SERVICE,
                           json={"ids": [str(gala.project.id), str(unknown), str(gala.project.id)]})
    assert response.status_code == 200
    assert response.json == {"projects": [{"id": str(gala.project.id), "name": "Gala"}]}
    assert client.post("/internal/projects/lookup", headers=SERVICE, json={"ids": []}).json == {"projects": []}


@pytest.mark.parametrize("path", ["/internal/projects/lookup", f"/internal/projects/{uuid.uuid4()}/checkout-lookup"])
def test_service_token_required(client, path):
    assert client.post(path, json={}).status_code == 401
