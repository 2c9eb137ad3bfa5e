"""The platform feed into projects (design §9): members joining, face-match tags."""

import uuid

import pytest
import requests
from sqlalchemy import text


@pytest.fixture
def projects_url(stack):
    return stack.service_url("projects")


class TestJoin:
    def test_public_live_project(self, feed, gw, operator, new_project):
        project = new_project(operator, type="public", status="live")
        guest = feed.participant()
        first = feed.join(project["id"], guest)
        assert first.status_code == 201
        assert set(first.json()) == {"projectId", "participantId", "joinedAt"}
        again = feed.join(project["id"], guest)
        assert again.status_code == 200 and again.json() == first.json()
        assert gw.get(f"/v1/projects/{project['id']}", token=operator.token).json()["memberCount"] == 1

    @pytest.mark.parametrize("path", [[], ["live", "closed"], ["live", "closed", "archived"]])
    def test_only_live_projects(self, feed, gw, operator, new_project, path):
        project = new_project(operator, type="public")
        for status in path:
            gw.patch(f"/v1/projects/{project['id']}/status", token=operator.token, json={"status": status})
        response = feed.join(project["id"], feed.participant())
        assert response.status_code == 409

    def test_private_needs_a_valid_invite(self, feed, gw, databases, operator, new_project):
        project = new_project(operator, status="live")
        invited, stranger, expired = (feed.participant() for _ in range(3))
        gw.post(
            f"/v1/projects/{project['id']}/invites/bulk",
            token=operator.token,
            json={"emails": [invited["email"], expired["email"]]},
        )
        with databases["projects"].begin() as connection:
            connection.execute(
                text("UPDATE invites SET expires_at = now() - interval '1 second' WHERE email = :e"),
                {"e": expired["email"]},
            )
        assert feed.join(project["id"], stranger).status_code == 403
        assert feed.join(project["id"], expired).status_code == 403
        assert feed.join(project["id"], invited, inviteToken="wrong-token").status_code == 403
        assert feed.join(project["id"], invited).status_code == 201

    def test_invite_token_must_match_the_email(self, feed, gw, stack, operator, new_project, wait_for):
        project = new_project(operator, status="live")
        invited, other = feed.participant(), feed.participant()
        gw.post(f"/v1/projects/{project['id']}/invites/bulk", token=operator.token, json={"emails": [invited["email"]]})

        def arrived():
            return next((m for m in stack.mail.messages if m["To"] == invited["email"]), None)

        assert wait_for(arrived, timeout=20)
        message = arrived()
        token = message.get_body(("plain",)).get_content().split("?invite=")[1].split()[0]
        assert feed.join(project["id"], other, inviteToken=token).status_code == 403
        assert feed.join(project["id"], invited, inviteToken=token).status_code == 201

    def test_bad_requests(self, feed, projects_url, service_headers, project):
        guest = feed.participant()
        assert feed.join(str(uuid.uuid4()), guest).status_code == 404
        assert (
            requests.post(
                f"{projects_url}/internal/projects/{project['id']}/members",
                headers=service_headers,
                json={"participantId": "x", "email": "nope"},
                timeout=10,
            ).status_code
            == 422
        )
        assert (
            requests.post(
                f"{projects_url}/internal/projects/{project['id']}/members",
                json={"participantId": guest["id"], "email": guest["email"]},
                timeout=10,
            ).status_code
            == 401
        )


class TestTags:
    @pytest.fixture
    def photo_id(self, ready_photos, photographer, assigned):
        return ready_photos(assigned["id"], photographer.id, 1)[0]

    def test_members_can_be_tagged(self, feed, gw, databases, operator, assigned, photo_id):
        gw.patch(f"/v1/projects/{assigned['id']}", token=operator.token, json={"type": "public"})
        gw.patch(f"/v1/projects/{assigned['id']}/status", token=operator.token, json={"status": "live"})
        guest = feed.participant()
        feed.join(assigned["id"], guest)
        for _ in range(2):  # idempotent
            assert feed.tag(photo_id, [guest]).status_code == 204
        with databases["projects"].connect() as connection:
            assert (
                connection.execute(
                    text("SELECT count(*) FROM photo_tags WHERE photo_id = :p"), {"p": photo_id}
                ).scalar()
                == 1
            )

    def test_non_members_are_422_and_nothing_is_tagged(self, feed, databases, photo_id):
        stranger = feed.participant()
        response = feed.tag(photo_id, [stranger])
        assert response.status_code == 422
        assert stranger["id"] in response.json()["errors"]["json"]["participantIds"][0]
        with databases["projects"].connect() as connection:
            assert (
                connection.execute(
                    text("SELECT count(*) FROM photo_tags WHERE photo_id = :p"), {"p": photo_id}
                ).scalar()
                == 0
            )

    def test_unknown_photo_is_404(self, feed):
        assert feed.tag(uuid.uuid4(), []).status_code == 404
