import datetime as dt
import email.policy
import itertools
import uuid

import pytest
from sqlalchemy import func, select

from backoffice_common.errors import Conflict
from projects_service.invites import rules as invites
from projects_service.invites.mail import render_invite
from projects_service.invites.rules import BulkInviteResult
from projects_service.models import Invite, Member, OutboxMessage
from projects_service.projects import rules as projects
from services.projects.tests.factories import make_project

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
TTL = dt.timedelta(days=14)
QUOTA = 5000


@pytest.mark.parametrize("joined, registered, expired", list(itertools.product([True, False], repeat=3)))
def test_registration_status_precedence(joined, registered, expired):
    expected = "joined" if joined else "registered" if registered else "expired" if expired else "pending"
    assert invites.registration_status(joined=joined, registered=registered, expired=expired) == expected


def _project(session, status="draft"):
    operator_id = uuid.uuid4()
    project_id = make_project(session, operator_id=operator_id, name="Gala", status=status).id
    return operator_id, project_id


def test_bulk_invite_skips_members_pending_and_repeats(db_session):
    operator_id, project_id = _project(db_session, "live")
    db_session.add(Member(project_id=project_id, participant_id=uuid.uuid4(), email="member@x.io"))
    db_session.flush()
    first = invites.bulk_invite(
        session=db_session,
        operator_id=operator_id,
        project_id=project_id,
        emails=["a@x.io", "a@x.io", "member@x.io", "b@x.io"],
        ttl=TTL,
        now=NOW,
        daily_quota=QUOTA,
    )
    assert first == BulkInviteResult(queued=2, skipped=2)
    again = invites.bulk_invite(
        session=db_session,
        operator_id=operator_id,
        project_id=project_id,
        emails=["a@x.io", "c@x.io"],
        ttl=TTL,
        now=NOW + dt.timedelta(days=1),
        daily_quota=QUOTA,
    )
    assert again == BulkInviteResult(queued=1, skipped=1)
    after_expiry = invites.bulk_invite(
        session=db_session,
        operator_id=operator_id,
        project_id=project_id,
        emails=["a@x.io"],
        ttl=TTL,
        now=NOW + TTL,
        daily_quota=QUOTA,
    )
    assert after_expiry == BulkInviteResult(queued=1, skipped=0)
    assert db_session.scalar(select(func.count()).select_from(Invite)) == 4
    messages = db_session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email.invite")).all()
    assert sorted(m.payload["to"] for m in messages) == ["a@x.io", "a@x.io", "b@x.io", "c@x.io"]
    stored = {i.token_hash for i in db_session.scalars(select(Invite))}
    assert {invites.token_hash(m.payload["token"]) for m in messages} == stored


@pytest.mark.parametrize("status", ["closed", "archived"])
def test_no_invites_once_closed(db_session, status):
    operator_id, project_id = _project(db_session, "live")
    for step in {"closed": ["closed"], "archived": ["closed", "archived"]}[status]:
        projects.change_status(
            session=db_session,
            operator_id=operator_id,
            project_id=project_id,
            status=step,
            join_base_url="http://x/join",
        )
    with pytest.raises(Conflict):
        invites.bulk_invite(
            session=db_session,
            operator_id=operator_id,
            project_id=project_id,
            emails=["a@x.io"],
            ttl=TTL,
            now=NOW,
            daily_quota=QUOTA,
        )


def test_invite_email_has_text_and_html_with_link_and_local_expiry():
    payload = {
        "inviteId": "i-1",
        "projectId": "p-1",
        "operatorId": "o-1",
        "to": "guest@x.io",
        "token": "tok<&>",
        "projectName": "Gala <2026>",
        "projectTimezone": None,
        "expiresAt": "2026-12-12T12:00:00+00:00",
    }
    message = render_invite(
        payload=payload,
        operator={"name": "Lumen & Co", "timezone": "Europe/Paris"},
        join_base_url="https://app.example.com/join/",
        sender="Back Office <no-reply@x.io>",
    )
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    plain = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert parsed["Subject"] == "Lumen & Co invites you to Gala <2026>"
    assert "https://app.example.com/join/p-1?invite=tok<&>" in plain
    assert "https://app.example.com/join/p-1?invite=tok&lt;&amp;&gt;" in html
    assert "Saturday 12 December 2026, 13:00 (Europe/Paris)" in plain
    assert "Lumen &amp; Co" in html and "Gala &lt;2026&gt;" in html
