"""Projects through the gateway: every route's success and failure codes, tenancy, the status machine."""

import uuid

import pytest
from sqlalchemy import text

SUMMARY_FIELDS = {
    "id",
    "name",
    "type",
    "status",
    "locationName",
    "startAt",
    "endAt",
    "timezone",
    "createdAt",
    "updatedAt",
    "photographerCount",
    "memberCount",
    "photoCount",
}
DETAIL_FIELDS = SUMMARY_FIELDS | {"projectLink", "termsAndConditions", "photographers", "joinUrl"}
TRANSITIONS = {("draft", "live"), ("live", "draft"), ("live", "closed"), ("closed", "archived")}
# How to reach each status from a new draft project.
PATH_TO = {"draft": [], "live": ["live"], "closed": ["live", "closed"], "archived": ["live", "closed", "archived"]}


def _count_projects(databases, operator_id):
    with databases["projects"].connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM projects WHERE operator_id = :o"), {"o": operator_id}
        ).scalar()


def _move(gw, owner, project_id, *statuses):
    for status in statuses:
        assert (
            gw.patch(f"/v1/projects/{project_id}/status", token=owner.token, json={"status": status}).status_code == 200
        )


class TestCreate:
    def test_defaults(self, gw, operator):
        response = gw.post("/v1/projects", token=operator.token, json={"name": "Gala"})
        assert response.status_code == 201
        body = response.json()
        assert set(body) == DETAIL_FIELDS
        assert (body["type"], body["status"], body["photographers"]) == ("private", "draft", [])
        assert (body["photographerCount"], body["memberCount"], body["photoCount"]) == (0, 0, 0)
        assert body["joinUrl"] is None and body["timezone"] is None

    def test_every_field(self, gw, operator):
        fields = {
            "name": "Marathon",
            "type": "public",
            "status": "live",
            "locationName": "Berlin",
            "startAt": "2026-09-27T09:15:00+02:00",
            "endAt": "2026-09-27T17:00:00.250Z",
            "projectLink": "https://marathon.example.com",
            "termsAndConditions": "Be nice.",
            "timezone": "Europe/Berlin",
        }
        body = gw.post("/v1/projects", token=operator.token, json=fields).json()
        assert body["startAt"] == "2026-09-27T07:15:00.000Z" and body["endAt"] == "2026-09-27T17:00:00.250Z"
        assert {
            k: body[k]
            for k in ("name", "type", "status", "locationName", "projectLink", "termsAndConditions", "timezone")
        } == {
            k: fields[k]
            for k in ("name", "type", "status", "locationName", "projectLink", "termsAndConditions", "timezone")
        }
        assert body["joinUrl"].endswith(body["id"])

    @pytest.mark.parametrize(
        "body, field",
        [
            ({}, "name"),
            ({"name": ""}, "name"),
            ({"name": "x" * 201}, "name"),
            ({"name": "A", "type": "secret"}, "type"),
            ({"name": "A", "status": "closed"}, "status"),
            ({"name": "A", "status": "archived"}, "status"),
            ({"name": "A", "startAt": "2026-09-27T09:15:00"}, "startAt"),
            ({"name": "A", "startAt": "yesterday"}, "startAt"),
            ({"name": "A", "startAt": "2026-09-28T00:00:00Z", "endAt": "2026-09-27T00:00:00Z"}, "endAt"),
            ({"name": "A", "projectLink": "ftp://x.example.com"}, "projectLink"),
            ({"name": "A", "timezone": "Moon/Base"}, "timezone"),
            ({"name": "A", "operatorId": str(uuid.uuid4())}, "operatorId"),
            ({"name": "A", "photographers": []}, "photographers"),
        ],
    )
    def test_invalid_is_422_and_creates_nothing(self, gw, databases, operator, body, field):
        response = gw.post("/v1/projects", token=operator.token, json=body)
        assert response.status_code == 422
        assert field in response.json()["errors"]["json"]
        assert _count_projects(databases, operator.id) == 0

    def test_roles(self, gw, photographer):
        assert gw.post("/v1/projects", json={"name": "A"}).status_code == 401
        assert gw.post("/v1/projects", token=photographer.token, json={"name": "A"}).status_code == 403


class TestList:
    def test_newest_first_with_counts_and_only_mine(self, gw, operator, other_operator, photographer, new_project):
        first, second = new_project(operator, name="First"), new_project(operator, name="Second")
        new_project(other_operator, name="Not mine")
        gw.post(
            f"/v1/projects/{first['id']}/photographers", token=operator.token, json={"photographerId": photographer.id}
        )
        listed = gw.get("/v1/projects", token=operator.token)
        assert listed.status_code == 200
        body = listed.json()
        assert [p["name"] for p in body] == ["Second", "First"]
        assert all(set(p) == SUMMARY_FIELDS for p in body)
        assert body[1]["photographerCount"] == 1 and body[0]["photographerCount"] == 0
        assert second["id"] == body[0]["id"]

    def test_archived_only_when_asked(self, gw, operator, new_project):
        kept, archived = new_project(operator, name="Kept"), new_project(operator, name="Gone")
        _move(gw, operator, archived["id"], "live", "closed", "archived")
        assert [p["id"] for p in gw.get("/v1/projects", token=operator.token).json()] == [kept["id"]]
        only = gw.get("/v1/projects?status=archived", token=operator.token).json()
        assert [p["id"] for p in only] == [archived["id"]]
        assert gw.get("/v1/projects?status=draft", token=operator.token).json()[0]["id"] == kept["id"]

    def test_bad_filter_is_422(self, gw, operator):
        assert gw.get("/v1/projects?status=deleted", token=operator.token).status_code == 422

    def test_roles(self, gw, photographer):
        assert gw.get("/v1/projects").status_code == 401
        assert gw.get("/v1/projects", token=photographer.token).status_code == 403


class TestDetail:
    def test_operator_and_assigned_photographer(self, gw, operator, photographer, assigned):
        for who in (operator, photographer):
            response = gw.get(f"/v1/projects/{assigned['id']}", token=who.token)
            assert response.status_code == 200
            body = response.json()
            assert set(body) == DETAIL_FIELDS
            assert body["photographers"] == [
                {"id": photographer.id, "name": photographer.name, "email": photographer.email}
            ]
            assert body["photographerCount"] == 1

    def test_unassigned_photographer_and_other_operator_get_404(self, gw, operator, other_operator, project):
        stranger = gw.register_photographer(operator)
        foreign = gw.register_photographer(other_operator)  # another operator's photographer
        for who in (stranger, other_operator, foreign):
            response = gw.get(f"/v1/projects/{project['id']}", token=who.token)
            assert response.status_code == 404 and response.json()["code"] == 404
        assert gw.get(f"/v1/projects/{uuid.uuid4()}", token=operator.token).status_code == 404
        assert gw.get("/v1/projects/not-a-uuid", token=operator.token).status_code == 404

    def test_archived_is_hidden_from_its_photographer(self, gw, operator, photographer, assigned):
        _move(gw, operator, assigned["id"], "live", "closed", "archived")
        assert gw.get(f"/v1/projects/{assigned['id']}", token=photographer.token).status_code == 404
        assert gw.get(f"/v1/projects/{assigned['id']}", token=operator.token).status_code == 200


class TestPatch:
    def test_updates_fields(self, gw, operator, project):
        response = gw.patch(
            f"/v1/projects/{project['id']}",
            token=operator.token,
            json={
                "name": "Renamed",
                "type": "public",
                "locationName": "Lyon",
                "timezone": "Europe/Paris",
                "startAt": "2026-06-01T10:00:00Z",
                "endAt": None,
            },
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["name"], body["type"], body["locationName"], body["timezone"]) == (
            "Renamed",
            "public",
            "Lyon",
            "Europe/Paris",
        )
        assert body["startAt"] == "2026-06-01T10:00:00.000Z" and body["status"] == "draft"
        assert gw.get(f"/v1/projects/{project['id']}", token=operator.token).json() == body

    @pytest.mark.parametrize(
        "changes, field",
        [
            ({"status": "live"}, "status"),
            ({"name": ""}, "name"),
            ({"type": "x"}, "type"),
            ({"projectLink": "nope"}, "projectLink"),
            ({"id": str(uuid.uuid4())}, "id"),
        ],
    )
    def test_invalid_is_422_and_changes_nothing(self, gw, operator, project, changes, field):
        response = gw.patch(f"/v1/projects/{project['id']}", token=operator.token, json=changes)
        assert response.status_code == 422 and field in response.json()["errors"]["json"]
        assert gw.get(f"/v1/projects/{project['id']}", token=operator.token).json() == project

    def test_dates_are_checked_against_the_stored_row(self, gw, operator, new_project):
        created = new_project(operator, startAt="2026-06-10T00:00:00Z")
        response = gw.patch(
            f"/v1/projects/{created['id']}", token=operator.token, json={"endAt": "2026-06-01T00:00:00Z"}
        )
        assert response.status_code == 422 and "endAt" in response.json()["errors"]["json"]
        assert gw.get(f"/v1/projects/{created['id']}", token=operator.token).json()["endAt"] is None

    def test_tenancy_and_roles(self, gw, operator, other_operator, photographer, assigned):
        assert (
            gw.patch(f"/v1/projects/{assigned['id']}", token=other_operator.token, json={"name": "x"}).status_code
            == 404
        )
        assert (
            gw.patch(f"/v1/projects/{assigned['id']}", token=photographer.token, json={"name": "x"}).status_code == 403
        )


@pytest.mark.parametrize("current", ["draft", "live", "closed", "archived"])
@pytest.mark.parametrize("target", ["draft", "live", "closed", "archived"])
def test_status_machine(gw, operator, project, current, target):
    _move(gw, operator, project["id"], *PATH_TO[current])
    response = gw.patch(f"/v1/projects/{project['id']}/status", token=operator.token, json={"status": target})
    if current == target or (current, target) in TRANSITIONS:
        assert response.status_code == 200
        assert response.json()["status"] == target
    else:
        assert response.status_code == 409
        assert response.json()["message"] == f"A project cannot go from {current} to {target}."
        allowed = ", ".join(t for f, t in sorted(TRANSITIONS) if f == current) or "none"
        assert response.json()["errors"] == {"json": {"status": [f"Allowed from {current}: {allowed}"]}}
        assert gw.get(f"/v1/projects/{project['id']}", token=operator.token).json()["status"] == current


def test_status_validation_and_tenancy(gw, operator, other_operator, photographer, project):
    path = f"/v1/projects/{project['id']}/status"
    assert gw.patch(path, token=operator.token, json={"status": "deleted"}).status_code == 422
    assert gw.patch(path, token=operator.token, json={}).status_code == 422
    assert gw.patch(path, token=other_operator.token, json={"status": "live"}).status_code == 404
    assert gw.patch(path, token=photographer.token, json={"status": "live"}).status_code == 403
    assert gw.get(f"/v1/projects/{project['id']}", token=operator.token).json()["status"] == "draft"


class TestAssignments:
    def test_assign_twice_and_remove(self, gw, operator, photographer, project):
        path = f"/v1/projects/{project['id']}/photographers"
        for _ in range(2):
            response = gw.post(path, token=operator.token, json={"photographerId": photographer.id})
            assert response.status_code == 204 and response.content == b""
        assert gw.get(f"/v1/projects/{project['id']}", token=operator.token).json()["photographerCount"] == 1
        assert gw.delete(f"{path}/{photographer.id}", token=operator.token).status_code == 204
        assert gw.get(f"/v1/projects/{project['id']}", token=operator.token).json()["photographers"] == []

    def test_someone_elses_photographer_or_project_is_404(self, gw, operator, other_operator, project, new_project):
        theirs = gw.register_photographer(other_operator)
        their_project = new_project(other_operator)
        mine = gw.register_photographer(operator)
        cases = [(project["id"], theirs.id), (project["id"], str(uuid.uuid4())), (their_project["id"], mine.id)]
        for project_id, photographer_id in cases:
            response = gw.post(
                f"/v1/projects/{project_id}/photographers",
                token=operator.token,
                json={"photographerId": photographer_id},
            )
            assert response.status_code == 404
            assert (
                gw.delete(
                    f"/v1/projects/{project_id}/photographers/{photographer_id}", token=operator.token
                ).status_code
                == 404
            )
        assert gw.get(f"/v1/projects/{project['id']}", token=operator.token).json()["photographers"] == []

    def test_validation_and_roles(self, gw, operator, photographer, project):
        path = f"/v1/projects/{project['id']}/photographers"
        assert gw.post(path, token=operator.token, json={"photographerId": "nope"}).status_code == 422
        assert gw.post(path, token=operator.token, json={}).status_code == 422
        assert gw.post(path, token=photographer.token, json={"photographerId": photographer.id}).status_code == 403
        assert gw.delete(f"{path}/{photographer.id}", token=photographer.token).status_code == 403


class TestDelete:
    def test_deletes_the_project(self, gw, databases, operator, assigned):
        assert gw.delete(f"/v1/projects/{assigned['id']}", token=operator.token).status_code == 204
        assert gw.get(f"/v1/projects/{assigned['id']}", token=operator.token).status_code == 404
        assert gw.delete(f"/v1/projects/{assigned['id']}", token=operator.token).status_code == 404
        with databases["projects"].connect() as connection:
            assert (
                connection.execute(
                    text("SELECT count(*) FROM project_photographers WHERE project_id = :p"), {"p": assigned["id"]}
                ).scalar()
                == 0
            )

    def test_archived_projects_can_be_deleted(self, gw, operator, project):
        _move(gw, operator, project["id"], "live", "closed", "archived")
        assert gw.delete(f"/v1/projects/{project['id']}", token=operator.token).status_code == 204

    def test_tenancy_and_roles(self, gw, operator, other_operator, photographer, assigned):
        assert gw.delete(f"/v1/projects/{assigned['id']}", token=other_operator.token).status_code == 404
        assert gw.delete(f"/v1/projects/{assigned['id']}", token=photographer.token).status_code == 403
        assert gw.get(f"/v1/projects/{assigned['id']}", token=operator.token).status_code == 200
