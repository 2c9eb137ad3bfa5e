import datetime as dt
import itertools
import uuid

import pytest
from sqlalchemy import func, select

from backoffice_common.errors import Conflict
from projects_service.models import OutboxMessage, Photo
from projects_service.projects import rules as projects
from services.projects.tests.factories import make_photographer, make_project

STATUSES = ("draft", "live", "closed", "archived")
ALLOWED = {("draft", "live"), ("live", "draft"), ("live", "closed"), ("closed", "archived")}


@pytest.mark.parametrize("current, target", list(itertools.product(STATUSES, STATUSES)))
def test_transition(current, target):
    if current == target or (current, target) in ALLOWED:
        assert projects.transition(current, target) == target
    else:
        with pytest.raises(Conflict) as refused:
            projects.transition(current, target)
        assert current in refused.value.message and target in refused.value.message


def test_archived_is_final():
    for target in ("draft", "live", "closed"):
        with pytest.raises(Conflict):
            projects.transition("archived", target)


def _project_with_photos(session, count):
    operator_id = uuid.uuid4()
    photographer = make_photographer(session, operator_id=operator_id)
    project = make_project(session, operator_id=operator_id, name="P")
    for index in range(count):
        session.add(
            Photo(
                project_id=project.id,
                photographer_id=photographer.id,
                object_key=f"k/{project.id}/{index:05d}",
                filename="a.jpg",
                content_type="image/jpeg",
                size_bytes=1,
                status="ready",
            )
        )
    session.flush()
    return operator_id, project.id


TTL = dt.timedelta(minutes=15)


def test_delete_writes_the_outbox_in_batches_of_1000(db_session):
    operator_id, project_id = _project_with_photos(db_session, 2001)
    projects.delete_project(session=db_session, operator_id=operator_id, project_id=project_id, upload_url_ttl=TTL)
    messages = db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.kind for m in messages] == ["r2.delete_objects"] * 3 + ["commerce.project_deleted"]
    assert [len(m.payload["keys"]) for m in messages[:3]] == [1000, 1000, 1]
    assert len({key for m in messages[:3] for key in m.payload["keys"]}) == 2001
    assert messages[3].payload == {"projectId": str(project_id)}
    assert db_session.scalar(select(func.count()).select_from(Photo)) == 0


def test_delete_removes_pending_keys_again_after_their_upload_urls_expire(db_session):
    operator_id, project_id = _project_with_photos(db_session, 2)
    pending = db_session.scalars(select(Photo).where(Photo.project_id == project_id)).first()
    pending.status = "pending"
    db_session.flush()
    now = db_session.scalar(select(func.now()))
    projects.delete_project(session=db_session, operator_id=operator_id, project_id=project_id, upload_url_ttl=TTL)
    messages = db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.kind for m in messages] == ["r2.delete_objects", "r2.delete_objects", "commerce.project_deleted"]
    assert sorted(messages[0].payload["keys"]) == sorted([f"k/{project_id}/00000", f"k/{project_id}/00001"])
    assert messages[0].next_attempt_at == now
    assert messages[1].payload == {"keys": [pending.object_key]}
    assert messages[1].next_attempt_at == now + TTL + projects.LATE_UPLOAD_LEEWAY


def test_delete_drops_unsent_invitation_emails_of_that_project_only(db_session):
    operator_id, project_id = _project_with_photos(db_session, 0)
    other_id = make_project(db_session, operator_id=operator_id, name="Other").id
    db_session.add_all(
        [
            OutboxMessage(kind="email.invite", payload={"projectId": str(project_id), "to": "a@x.io"}),
            OutboxMessage(kind="email.invite", payload={"projectId": str(other_id), "to": "b@x.io"}),
        ]
    )
    db_session.flush()
    projects.delete_project(session=db_session, operator_id=operator_id, project_id=project_id, upload_url_ttl=TTL)
    left = db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.kind, m.payload.get("to")) for m in left] == [
        ("email.invite", "b@x.io"),
        ("commerce.project_deleted", None),
    ]
