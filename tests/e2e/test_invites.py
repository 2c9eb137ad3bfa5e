"""Bulk invites, their emails, and the invite list with registration status (design §5)."""

import hashlib
import re
import uuid

import pytest
import requests
from sqlalchemy import text


def _emails(n, tag="guest"):
    run = uuid.uuid4().hex[:8]
    return [f"{tag}{i}-{run}@example.com" for i in range(n)]


def _bulk(gw, owner, project_id, emails):
    return gw.post(f"/v1/projects/{project_id}/invites/bulk", token=owner.token, json={"emails": emails})


def _received(stack, recipients):
    recipients = set(recipients)
    return [message for message in stack.mail.messages if message["To"] in recipients]


def _count(databases, sql, **params):
    with databases["projects"].connect() as connection:
        return connection.execute(text(sql), params).scalar()


def _join(stack, headers, project_id, email, token=None):
    participant = requests.post(
        f"{stack.service_url('auth')}/internal/participants",
        headers=headers,
        json={"email": email, "name": "Guest"},
        timeout=10,
    ).json()
    response = requests.post(
        f"{stack.service_url('projects')}/internal/projects/{project_id}/members",
        headers=headers,
        json={"participantId": participant["id"], "email": email, **({"inviteToken": token} if token else {})},
        timeout=10,
    )
    return participant, response


class TestBulkInvite:
    def test_queues_and_sends_one_email_each(self, gw, stack, databases, wait_for, operator, new_project):
        project = new_project(operator, name="Tokyo Marathon", timezone="Asia/Tokyo")
        emails = _emails(2)
        response = _bulk(gw, operator, project["id"], emails)
        assert response.status_code == 202
        assert response.json() == {"queued": 2, "skipped": 0}
        assert wait_for(lambda: len(_received(stack, emails)) == 2)
        message = _received(stack, emails[:1])[0]
        assert message["Subject"] == "Lumen Studio invites you to Tokyo Marathon"
        text_part = message.get_body(("plain",)).get_content()
        html_part = message.get_body(("html",)).get_content()
        assert "Lumen Studio invites you to Tokyo Marathon" in text_part
        assert "(Asia/Tokyo)" in text_part and "(Asia/Tokyo)" in html_part
        link = re.search(r"(http\S+/join/" + project["id"] + r"\?invite=(\S+))", text_part)
        assert link and link.group(1) in html_part
        token_hash = hashlib.sha256(link.group(2).encode()).hexdigest()
        assert (
            _count(
                databases,
                "SELECT count(*) FROM invites WHERE email = :e AND token_hash = :h",
                e=emails[0],
                h=token_hash,
            )
            == 1
        )

    def test_expiry_uses_the_operators_time_zone_when_the_project_has_none(
        self, gw, stack, wait_for, operator, new_project
    ):
        gw.patch("/v1/operators/me", token=operator.token, json={"timezone": "America/New_York"})
        project = new_project(operator)
        emails = _emails(1)
        _bulk(gw, operator, project["id"], emails)
        assert wait_for(lambda: _received(stack, emails))
        assert "(America/New_York)" in _received(stack, emails)[0].get_body(("plain",)).get_content()

    def test_normalises_and_skips_repeats_and_pending(self, gw, databases, operator, project):
        a, b, c = _emails(3)
        first = _bulk(gw, operator, project["id"], [f"  {a.upper()} ", a, b])
        assert first.json() == {"queued": 2, "skipped": 1}
        second = _bulk(gw, operator, project["id"], [a, c, c])
        assert second.json() == {"queued": 1, "skipped": 2}
        assert _count(databases, "SELECT count(*) FROM invites WHERE project_id = :p", p=project["id"]) == 3

    def test_members_are_skipped(self, gw, stack, service_headers, operator, new_project):
        project = new_project(operator, type="public", status="live")
        (email,) = _emails(1)
        _, joined = _join(stack, service_headers, project["id"], email)
        assert joined.status_code == 201
        assert _bulk(gw, operator, project["id"], [email]).json() == {"queued": 0, "skipped": 1}

    def test_expired_invites_can_be_renewed(self, gw, databases, operator, project):
        (email,) = _emails(1)
        _bulk(gw, operator, project["id"], [email])
        with databases["projects"].begin() as connection:
            connection.execute(
                text("UPDATE invites SET expires_at = now() - interval '1 minute' WHERE email = :e"), {"e": email}
            )
        assert _bulk(gw, operator, project["id"], [email]).json() == {"queued": 1, "skipped": 0}

    @pytest.mark.parametrize(
        "emails", [[], ["ok@example.com", "not-an-email"], ["x@example.com"] * 501, ["ok@example.com", 42]]
    )
    def test_invalid_lists_are_422_and_queue_nothing(self, gw, databases, operator, project, emails):
        response = _bulk(gw, operator, project["id"], emails)
        assert response.status_code == 422
        assert "emails" in response.json()["errors"]["json"]
        assert _count(databases, "SELECT count(*) FROM invites WHERE project_id = :p", p=project["id"]) == 0

    def test_invalid_emails_are_named(self, gw, operator, project):
        response = _bulk(gw, operator, project["id"], ["fine@example.com", "nope", "also@bad"])
        assert response.json()["errors"]["json"]["emails"] == ["Not valid email addresses: nope, also@bad"]

    @pytest.mark.parametrize("path", [["live", "closed"], ["live", "closed", "archived"]])
    def test_closed_or_archived_is_409(self, gw, operator, project, path):
        for status in path:
            gw.patch(f"/v1/projects/{project['id']}/status", token=operator.token, json={"status": status})
        assert _bulk(gw, operator, project["id"], _emails(1)).status_code == 409

    def test_tenancy_and_roles(self, gw, operator, other_operator, photographer, project):
        assert _bulk(gw, other_operator, project["id"], _emails(1)).status_code == 404
        assert _bulk(gw, photographer, project["id"], _emails(1)).status_code == 403
        assert gw.post(f"/v1/projects/{project['id']}/invites/bulk", json={"emails": _emails(1)}).status_code == 401


class TestInviteList:
    def test_newest_first_with_registration_status(self, gw, stack, databases, service_headers, operator, new_project):
        project = new_project(operator, status="live")
        pending, registered, joined, expired, expired_but_registered = _emails(5)
        for email in (pending, registered, joined, expired, expired_but_registered):
            assert _bulk(gw, operator, project["id"], [email]).status_code == 202
        with databases["projects"].begin() as connection:
            connection.execute(
                text("UPDATE invites SET expires_at = now() - interval '1 day' WHERE email IN (:a, :b)"),
                {"a": expired, "b": expired_but_registered},
            )
        for email in (registered, expired_but_registered):
            requests.post(
                f"{stack.service_url('auth')}/internal/participants",
                headers=service_headers,
                json={"email": email, "name": "G"},
                timeout=10,
            )
        # private project: joining needs the invite (no token: a valid invite for the email is enough)
        assert _join(stack, service_headers, project["id"], joined)[1].status_code == 201
        response = gw.get(f"/v1/projects/{project['id']}/invites", token=operator.token)
        assert response.status_code == 200
        body = response.json()
        assert [item["email"] for item in body] == [expired_but_registered, expired, joined, registered, pending]
        assert {item["email"]: item["registrationStatus"] for item in body} == {
            pending: "pending",
            registered: "registered",
            joined: "joined",
            expired: "expired",
            expired_but_registered: "registered",
        }
        assert set(body[0]) == {"id", "email", "registrationStatus", "createdAt", "expiresAt"}
        assert body[0]["createdAt"].endswith("Z") and body[0]["expiresAt"].endswith("Z")

    def test_ttl_is_14_days(self, gw, operator, project):
        _bulk(gw, operator, project["id"], _emails(1))
        item = gw.get(f"/v1/projects/{project['id']}/invites", token=operator.token).json()[0]
        import datetime as dt

        created = dt.datetime.fromisoformat(item["createdAt"].replace("Z", "+00:00"))
        expires = dt.datetime.fromisoformat(item["expiresAt"].replace("Z", "+00:00"))
        assert expires - created == dt.timedelta(days=14)

    def test_auth_down_is_503(self, gw, stack, operator, project):
        _bulk(gw, operator, project["id"], _emails(1))
        stack.stop_service("auth")
        try:
            response = gw.get(f"/v1/projects/{project['id']}/invites", token=operator.token)
        finally:
            stack.start_service("auth")
        assert response.status_code == 503

    def test_tenancy_and_roles(self, gw, operator, other_operator, photographer, project):
        assert gw.get(f"/v1/projects/{project['id']}/invites", token=other_operator.token).status_code == 404
        assert gw.get(f"/v1/projects/{project['id']}/invites", token=photographer.token).status_code == 403
        assert gw.get(f"/v1/projects/{uuid.uuid4()}/invites", token=operator.token).status_code == 404
