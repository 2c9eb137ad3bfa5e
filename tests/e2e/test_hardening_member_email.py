"""Issue 9 item 4: joining checks a private project's invite against the participant's own email (auth's),
not the email the caller sends; an email that is not the participant's is 422 and nothing changes."""

import uuid

import pytest
import requests
from sqlalchemy import text


def _members(databases, project_id):
    with databases["projects"].connect() as connection:
        return connection.execute(
            text("SELECT participant_id::text, email FROM members WHERE project_id = :p"), {"p": project_id}
        ).all()


@pytest.fixture
def private_live(gw, operator, new_project):
    return new_project(operator, status="live")


def _invite(gw, operator, project_id, email):
    assert (
        gw.post(f"/v1/projects/{project_id}/invites/bulk", token=operator.token, json={"emails": [email]}).status_code
        == 202
    )


class TestMemberEmail:
    def test_someone_elses_invite_cannot_be_used(self, feed, gw, databases, operator, private_live):
        invited, intruder = feed.participant(), feed.participant()
        _invite(gw, operator, private_live["id"], invited["email"])
        # The intruder claims the invited email: before, the invite for that email let them in.
        response = feed.join(private_live["id"], intruder, email=invited["email"])
        assert response.status_code == 422
        body = response.json()
        assert (body["code"], body["status"]) == (422, "Unprocessable Entity")
        assert body["errors"] == {"json": {"email": ["Must be the participant's own email."]}}
        assert _members(databases, private_live["id"]) == []
        # The invited participant, with their own email, still joins.
        assert feed.join(private_live["id"], invited).status_code == 201
        assert _members(databases, private_live["id"]) == [(invited["id"], invited["email"])]

    def test_public_project_records_the_participants_own_email(self, feed, gw, databases, operator, new_project):
        project = new_project(operator, type="public", status="live")
        guest = feed.participant()
        response = feed.join(project["id"], guest, email=f"someone-else-{uuid.uuid4().hex[:6]}@example.com")
        assert response.status_code == 422 and list(response.json()["errors"]["json"]) == ["email"]
        assert _members(databases, project["id"]) == []
        assert gw.get(f"/v1/projects/{project['id']}", token=operator.token).json()["memberCount"] == 0

    def test_a_member_repeating_the_join_with_another_email_is_422(self, feed, databases, operator, new_project):
        project = new_project(operator, type="public", status="live")
        guest = feed.participant()
        assert feed.join(project["id"], guest).status_code == 201
        assert feed.join(project["id"], guest, email="other@example.com").status_code == 422
        assert _members(databases, project["id"]) == [(guest["id"], guest["email"])]

    def test_the_email_is_compared_normalised(self, feed, databases, operator, private_live, gw):
        invited = feed.participant()
        _invite(gw, operator, private_live["id"], invited["email"])
        assert feed.join(private_live["id"], invited, email=f"  {invited['email'].upper()} ").status_code == 201
        assert _members(databases, private_live["id"]) == [(invited["id"], invited["email"])]

    def test_an_unknown_participant_is_422(self, feed, databases, operator, new_project):
        project = new_project(operator, type="public", status="live")
        stranger = {"id": str(uuid.uuid4()), "email": f"ghost-{uuid.uuid4().hex[:6]}@example.com"}
        response = feed.join(project["id"], stranger)
        assert response.status_code == 422
        assert response.json()["errors"] == {"json": {"participantId": ["Unknown participant."]}}
        assert _members(databases, project["id"]) == []

    def test_auth_down_is_503_and_nothing_joins(self, feed, stack, databases, operator, new_project):
        project = new_project(operator, type="public", status="live")
        guest = feed.participant()
        stack.stop_service("auth")
        try:
            response = feed.join(project["id"], guest)
        finally:
            stack.start_service("auth")
        assert response.status_code == 503 and response.json()["code"] == 503
        assert _members(databases, project["id"]) == []


class TestAuthParticipantById:
    def test_reads_a_participant(self, feed, stack, service_headers):
        guest = feed.participant()
        response = requests.get(
            f"{stack.service_url('auth')}/internal/participants/{guest['id']}", headers=service_headers, timeout=10
        )
        assert response.status_code == 200
        assert response.json() == {"id": guest["id"], "email": guest["email"], "name": "Guest"}

    def test_unknown_is_404_and_it_needs_a_service_token(self, feed, stack, service_headers, operator):
        auth = stack.service_url("auth")
        missing = requests.get(f"{auth}/internal/participants/{uuid.uuid4()}", headers=service_headers, timeout=10)
        assert missing.status_code == 404 and missing.json()["code"] == 404
        guest = feed.participant()
        assert requests.get(f"{auth}/internal/participants/{guest['id']}", timeout=10).status_code == 401
        assert (
            requests.get(
                f"{auth}/internal/participants/{guest['id']}", headers=operator.headers, timeout=10
            ).status_code
            == 401
        )
