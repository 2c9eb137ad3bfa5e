"""The platform feed into projects (design §9): members joining, face-match tags."""
import uuid

import pytest
import requests
from sqlalchemy import text


@pytest.fixture
def projects_url(stack):
    return stack.service_url("projects")


def _participant(stack, headers, email=None):
    email = email or f"p-{uuid.uuid4().hex[:10]}@example.com"
    return requests.post(f"{stack.service_url('auth')}/internal/participants", headers=headers,
                         json={"email": email, "name": "Guest"}).json()


def _join(projects_url, headers, project_id, participant, **extra):
    return requests.post(f"{projects_url}/internal/projects/{project_id}/members", headers=headers,
                         json={"participantId": participant["id"], "email": participant["email"], **extra})


class TestJoin:
    def test_public_live_project(self, gw, stack, projects_url, service_headers, operator, new_project):
        project = new_project(operator, type="public", status="live")
        guest = _participant(stack, service_headers)
        first = _join(projects_url, service_headers, project["id"], guest)
        assert first.status_code == 201
        assert set(first.json()) == {"projectId", "participantId", "joinedAt"}
        again = _join(projects_url, service_headers, project["id"], guest)
        assert again.status_code == 200 and again.json() == first.json()
        assert gw.get(f"/v1/projects/{project['id']}", token=operator.token).json()["memberCount"] == 1

    @pytest.mark.parametrize("path", [[], ["live", "closed"], ["live", "closed", "archived"]])
    def test_only_live_projects(self, gw, stack, projects_url, service_headers, operator, new_project, path):
        project = new_project(operator, type="public")
        for status in path:
            gw.patch(f"/v1/projects/{project['id']}/status", token=operator.token, json={"status": status})
        response = _join(projects_url, service_headers, project["id"], _participant(stack, service_headers))
        assert response.status_code == 409

    def test_private_needs_a_valid_invite(self, gw, stack, databases, projects_url, service_headers, operator,
                                          new_project):
        project = new_project(operator, status="live")
        invited, stranger, expired = (_participant(stack, service_headers) for _ in range(3))
        gw.post(f"/v1/projects/{project['id']}/invites/bulk", token=operator.token,
                json={"emails": [invited["email"], expired["email"]]})
        with databases["projects"].begin() as connection:
            connection.execute(text("UPDATE invites SET expires_at = now() - interval '1 second' WHERE email = :e"),
                               {"e": expired["email"]})
        assert _join(projects_url, service_headers, project["id"], stranger).status_code == 403
        assert _join(projects_url, service_headers, project["id"], expired).status_code == 403
        assert _join(projects_url, service_headers, project["id"], invited, inviteToken="wrong-token").status_code == 403
        assert _join(projects_url, service_headers, project["id"], invited).status_code == 201

    def test_invite_token_must_match_the_email(self, gw, stack, databases, projects_url, service_headers, operator,
                                               new_project):
        project = new_project(operator, status="live")
        invited, other = _participant(stack, service_headers), _participant(stack, service_headers)
        gw.post(f"/v1/projects/{project['id']}/invites/bulk", token=operator.token, json={"emails": [invited["email"]]})
        message = None

        def arrived():
            nonlocal message
            found = [m for m in stack.mail.messages if m["To"] == invited["email"]]
            message = found[0] if found else None
            return message is not None
        import time
        deadline = time.monotonic() + 20
        while not arrived() and time.monotonic() < deadline:
            time.sleep(0.1)
        token = message.get_body(("plain",)).get_content().split("?invite=")[1].split()[0]
        assert _join(projects_url, service_headers, project["id"], other, inviteToken=token).status_code == 403
        assert _join(projects_url, service_headers, project["id"], invited, inviteToken=token).status_code == 201

    def test_bad_requests(self, stack, projects_url, service_headers, operator, project):
        guest = _participant(stack, service_headers)
        assert _join(projects_url, service_headers, str(uuid.uuid4()), guest).status_code == 404
        assert requests.post(f"{projects_url}/internal/projects/{project['id']}/members", headers=service_headers,
                             json={"participantId": "x", "email": "nope"}).status_code == 422
        assert requests.post(f"{projects_url}/internal/projects/{project['id']}/members",
                             json={"participantId": guest["id"], "email": guest["email"]}).status_code == 401


class TestTags:
    @pytest.fixture
    def photo_id(self, databases, photographer, assigned):
        photo_id = uuid.uuid4()
        with databases["projects"].begin() as connection:
            connection.execute(text(
                "INSERT INTO photos (id, project_id, photographer_id, object_key, filename, content_type, size_bytes,"
                " status) VALUES (:i, :p, :ph, :k, 'a.jpg', 'image/jpeg', 1, 'ready')"),
                {"i": photo_id, "p": assigned["id"], "ph": photographer.id, "k": f"k/{photo_id}"})
        return str(photo_id)

    def test_members_can_be_tagged(self, gw, stack, databases, projects_url, service_headers, operator, assigned,
                                   photo_id):
        gw.patch(f"/v1/projects/{assigned['id']}", token=operator.token, json={"type": "public"})
        gw.patch(f"/v1/projects/{assigned['id']}/status", token=operator.token, json={"status": "live"})
        guest = _participant(stack, service_headers)
        _join(projects_url, service_headers, assigned["id"], guest)
        for _ in range(2):  # idempotent
            response = requests.post(f"{projects_url}/internal/photos/{photo_id}/tags", headers=service_headers,
                                     json={"participantIds": [guest["id"]]})
            assert response.status_code == 204
        with databases["projects"].connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM photo_tags WHERE photo_id = :p"),
                                      {"p": photo_id}).scalar() == 1

    def test_non_members_are_422_and_nothing_is_tagged(self, stack, databases, projects_url, service_headers,
                                                       photo_id):
        stranger = _participant(stack, service_headers)
        response = requests.post(f"{projects_url}/internal/photos/{photo_id}/tags", headers=service_headers,
                                 json={"participantIds": [stranger["id"]]})
        assert response.status_code == 422
        assert stranger["id"] in response.json()["errors"]["json"]["participantIds"][0]
        with databases["projects"].connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM photo_tags WHERE photo_id = :p"),
                                      {"p": photo_id}).scalar() == 0

    def test_unknown_photo_is_404(self, projects_url, service_headers):
        assert requests.post(f"{projects_url}/internal/photos/{uuid.uuid4()}/tags", headers=service_headers,
                             json={"participantIds": []}).status_code == 404
