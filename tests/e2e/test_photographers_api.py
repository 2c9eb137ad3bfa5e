"""The photographer roster and a photographer's own views, kept in step with auth's logins."""

import uuid

import pytest
from sqlalchemy import text


def _email():
    return f"ph-{uuid.uuid4().hex[:10]}@example.com"


def _row(databases, service, sql, **params):
    with databases[service].connect() as connection:
        return connection.execute(text(sql), params).first()


class TestRoster:
    def test_lists_photographers_with_their_live_projects(self, gw, operator, other_operator, new_project):
        pat, sam = gw.register_photographer(operator, name="Pat"), gw.register_photographer(operator, name="Sam")
        gw.register_photographer(other_operator, name="Theirs")
        current, archived = new_project(operator, name="Current"), new_project(operator, name="Old")
        for project_id in (current["id"], archived["id"]):
            gw.post(f"/v1/projects/{project_id}/photographers", token=operator.token, json={"photographerId": pat.id})
        for status in ("live", "closed", "archived"):
            gw.patch(f"/v1/projects/{archived['id']}/status", token=operator.token, json={"status": status})
        response = gw.get("/v1/photographers", token=operator.token)
        assert response.status_code == 200
        body = response.json()
        assert [p["name"] for p in body] == ["Sam", "Pat"]
        assert set(body[0]) == {"id", "name", "email", "createdAt", "updatedAt", "projects"}
        assert body[1]["projects"] == [{"id": current["id"], "name": "Current"}]
        assert body[0]["projects"] == [] and body[0]["id"] == sam.id

    def test_the_list_follows_every_change_at_once(self, gw, databases, operator, new_project):
        """The roster's answer is kept per worker while its rows are unchanged: each change shows on the very next
        request, whichever worker answers it, including one made straight in the database."""
        pat = gw.register_photographer(operator, name="Pat")
        project = new_project(operator, name="Wedding")

        def projects_of_pat():
            for _ in range(4):  # more requests than workers: each worker answers (and keeps) the list
                body = gw.get("/v1/photographers", token=operator.token).json()
            return [(p["id"], p["name"]) for p in next(entry for entry in body if entry["id"] == pat.id)["projects"]]

        assert projects_of_pat() == []
        gw.post(f"/v1/projects/{project['id']}/photographers", token=operator.token, json={"photographerId": pat.id})
        assert projects_of_pat() == [(project["id"], "Wedding")]
        gw.patch(f"/v1/projects/{project['id']}", token=operator.token, json={"name": "Wedding II"})
        assert projects_of_pat() == [(project["id"], "Wedding II")]
        with databases["projects"].begin() as connection:
            connection.execute(text("UPDATE projects SET name = 'By hand' WHERE id = :id"), {"id": project["id"]})
        assert projects_of_pat() == [(project["id"], "By hand")]
        gw.patch(f"/v1/photographers/{pat.id}", token=operator.token, json={"name": "Patricia"})
        names = [entry["name"] for entry in gw.get("/v1/photographers", token=operator.token).json()]
        assert "Patricia" in names and "Pat" not in names
        gw.delete(f"/v1/projects/{project['id']}/photographers/{pat.id}", token=operator.token)
        assert projects_of_pat() == []

    def test_roles(self, gw, photographer):
        assert gw.get("/v1/photographers").status_code == 401
        assert gw.get("/v1/photographers", token=photographer.token).status_code == 403


class TestPatch:
    def test_rename_and_re_email_changes_the_login(self, gw, databases, operator, photographer):
        new_email = _email()
        response = gw.patch(
            f"/v1/photographers/{photographer.id}",
            token=operator.token,
            json={"name": "Pat Renamed", "email": f" {new_email.upper()} "},
        )
        assert response.status_code == 200
        assert (response.json()["name"], response.json()["email"]) == ("Pat Renamed", new_email)
        assert (
            gw.post("/v1/auth/login", json={"email": new_email, "password": photographer.password}).status_code == 200
        )
        assert (
            gw.post("/v1/auth/login", json={"email": photographer.email, "password": photographer.password}).status_code
            == 401
        )
        auth_row = _row(databases, "auth", "SELECT name, email FROM accounts WHERE id = :i", i=photographer.id)
        assert tuple(auth_row) == ("Pat Renamed", new_email)

    def test_taken_email_is_409_and_changes_nothing(self, gw, databases, operator, other_operator, photographer):
        response = gw.patch(
            f"/v1/photographers/{photographer.id}",
            token=operator.token,
            json={"name": "New Name", "email": other_operator.email},
        )
        assert response.status_code == 409
        assert tuple(
            _row(databases, "projects", "SELECT name, email FROM photographers WHERE id = :i", i=photographer.id)
        ) == (photographer.name, photographer.email)
        assert tuple(_row(databases, "auth", "SELECT name, email FROM accounts WHERE id = :i", i=photographer.id)) == (
            photographer.name,
            photographer.email,
        )

    @pytest.mark.parametrize(
        "changes, field",
        [({"email": "nope"}, "email"), ({"name": ""}, "name"), ({"password": "new-password-1"}, "password")],
    )
    def test_invalid_is_422(self, gw, operator, photographer, changes, field):
        response = gw.patch(f"/v1/photographers/{photographer.id}", token=operator.token, json=changes)
        assert response.status_code == 422 and field in response.json()["errors"]["json"]

    def test_tenancy_and_roles(self, gw, operator, other_operator, photographer):
        assert (
            gw.patch(f"/v1/photographers/{photographer.id}", token=other_operator.token, json={"name": "x"}).status_code
            == 404
        )
        assert (
            gw.patch(f"/v1/photographers/{uuid.uuid4()}", token=operator.token, json={"name": "x"}).status_code == 404
        )
        assert (
            gw.patch(f"/v1/photographers/{photographer.id}", token=photographer.token, json={"name": "x"}).status_code
            == 403
        )

    def test_auth_down_is_503_and_changes_nothing(self, gw, stack, databases, operator, photographer):
        stack.stop_service("auth")
        try:
            response = gw.patch(f"/v1/photographers/{photographer.id}", token=operator.token, json={"name": "Nope"})
        finally:
            stack.start_service("auth")
        assert response.status_code == 503
        assert (
            _row(databases, "projects", "SELECT name FROM photographers WHERE id = :i", i=photographer.id)[0]
            == photographer.name
        )


class TestDelete:
    def test_refused_while_assigned_then_deleted(self, gw, databases, operator, photographer, assigned):
        path = f"/v1/photographers/{photographer.id}"
        refused = gw.delete(path, token=operator.token)
        assert refused.status_code == 409
        assert refused.json()["message"] == (
            f"The photographer is assigned to 1 project(s): {assigned['name']}. Remove them from those projects first."
        )
        gw.delete(f"/v1/projects/{assigned['id']}/photographers/{photographer.id}", token=operator.token)
        assert gw.delete(path, token=operator.token).status_code == 204
        assert _row(databases, "auth", "SELECT 1 FROM accounts WHERE id = :i", i=photographer.id) is None
        assert _row(databases, "projects", "SELECT 1 FROM photographers WHERE id = :i", i=photographer.id) is None
        # can't log in, and the old token stops working on photographer routes
        assert (
            gw.post("/v1/auth/login", json={"email": photographer.email, "password": photographer.password}).status_code
            == 401
        )
        assert gw.get("/v1/photographers/me/projects", token=photographer.token).status_code == 401
        assert gw.get(f"/v1/projects/{assigned['id']}", token=photographer.token).status_code in (401, 404)
        assert gw.delete(path, token=operator.token).status_code == 404

    def test_tenancy_and_roles(self, gw, operator, other_operator, photographer):
        assert gw.delete(f"/v1/photographers/{photographer.id}", token=other_operator.token).status_code == 404
        assert gw.delete(f"/v1/photographers/{photographer.id}", token=photographer.token).status_code == 403
        assert gw.get("/v1/photographers", token=operator.token).json()[0]["id"] == photographer.id

    def test_auth_down_is_503_and_keeps_both_sides(self, gw, stack, databases, operator, photographer):
        stack.stop_service("auth")
        try:
            response = gw.delete(f"/v1/photographers/{photographer.id}", token=operator.token)
        finally:
            stack.start_service("auth")
        assert response.status_code == 503
        assert _row(databases, "projects", "SELECT 1 FROM photographers WHERE id = :i", i=photographer.id) is not None
        assert (
            gw.post("/v1/auth/login", json={"email": photographer.email, "password": photographer.password}).status_code
            == 200
        )


class TestMyProjects:
    def test_lists_and_reads_only_assigned_projects(self, gw, operator, photographer, assigned, new_project):
        other = new_project(operator, name="Not assigned")
        archived = new_project(operator, name="Archived")
        gw.post(
            f"/v1/projects/{archived['id']}/photographers",
            token=operator.token,
            json={"photographerId": photographer.id},
        )
        for status in ("live", "closed", "archived"):
            gw.patch(f"/v1/projects/{archived['id']}/status", token=operator.token, json={"status": status})
        listed = gw.get("/v1/photographers/me/projects", token=photographer.token)
        assert listed.status_code == 200
        assert [p["id"] for p in listed.json()] == [assigned["id"]]
        assert listed.json()[0]["photographerCount"] == 1
        one = gw.get(f"/v1/photographers/me/projects/{assigned['id']}", token=photographer.token)
        assert one.status_code == 200 and one.json()["id"] == assigned["id"]
        for project_id in (other["id"], archived["id"], str(uuid.uuid4())):
            assert gw.get(f"/v1/photographers/me/projects/{project_id}", token=photographer.token).status_code == 404

    def test_operators_are_forbidden(self, gw, operator, project):
        assert gw.get("/v1/photographers/me/projects", token=operator.token).status_code == 403
        assert gw.get(f"/v1/photographers/me/projects/{project['id']}", token=operator.token).status_code == 403
        assert gw.get("/v1/photographers/me/projects").status_code == 401
