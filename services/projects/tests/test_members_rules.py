"""A participant joining writes member.joined (design §12) into the outbox with the member, and only then."""

import datetime as dt
import uuid

from sqlalchemy import select

from backoffice_common.api import utc_text
from projects_service.members.rules import join_project
from projects_service.models import OutboxMessage
from services.projects.tests.factories import make_project

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def _events(session):
    return [m.payload for m in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "webhooks.event"))]


def test_a_new_member_writes_member_joined_once(db_session):
    project = make_project(db_session, type="public", status="live")
    participant = uuid.uuid4()
    member, created = join_project(
        session=db_session, project_id=project.id, participant_id=participant, email="g@example.com", now=NOW
    )
    assert created
    again, created_again = join_project(
        session=db_session, project_id=project.id, participant_id=participant, email="g@example.com", now=NOW
    )
    assert not created_again and again.joined_at == member.joined_at
    mine = [e for e in _events(db_session) if e["data"]["participantId"] == str(participant)]
    assert len(mine) == 1
    (event,) = mine
    assert event["type"] == "member.joined" and event["operatorId"] == str(project.operator_id)
    assert event["id"].startswith("evt_") and event["createdAt"] == utc_text(member.joined_at)
    assert event["data"] == {
        "projectId": str(project.id),
        "participantId": str(participant),
        "joinedAt": utc_text(member.joined_at),
    }
