"""Races between two real transactions: a write that refers to a project being deleted must wait and
answer 404, not trip the foreign key (a 500). These commit for real, so each test cleans up after itself."""

import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backoffice_common.errors import NotFound
from projects_service.members import rules as members
from projects_service.models import Assignment, Member, OutboxMessage, Photographer, Project
from projects_service.projects import rules as projects
from services.projects.tests.factories import make_photographer, make_project

TTL = dt.timedelta(minutes=15)


@pytest.fixture
def engine(app):
    return app.extensions["database"].engine


@pytest.fixture
def operator_project(engine):
    operator_id = uuid.uuid4()
    photographer_id = uuid.uuid4()
    with Session(engine) as session, session.begin():
        make_photographer(session, id=photographer_id, operator_id=operator_id)
        project_id = make_project(session, operator_id=operator_id, name="Race", type="public", status="live").id
    yield operator_id, project_id, photographer_id
    with Session(engine) as session, session.begin():
        session.execute(delete(Project).where(Project.operator_id == operator_id))
        session.execute(delete(Photographer).where(Photographer.operator_id == operator_id))
        session.execute(delete(OutboxMessage).where(OutboxMessage.payload["projectId"].astext == str(project_id)))


def _while_deleting(engine, operator_id, project_id, write):
    """Run ``write`` in a second transaction while the delete holds its lock, then commit the delete."""
    outcome = {}
    with Session(engine) as deleting:
        deleting.begin()
        projects.delete_project(session=deleting, operator_id=operator_id, project_id=project_id, upload_url_ttl=TTL)

        def other():
            try:
                with Session(engine) as session, session.begin():
                    outcome["result"] = write(session)
            except Exception as exc:  # recorded for the assertion
                outcome["error"] = exc

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive(), "the second write should wait for the delete's lock"
        deleting.commit()
        thread.join(10)
    return outcome


def test_assigning_to_a_project_being_deleted_is_a_404(engine, operator_project):
    operator_id, project_id, photographer_id = operator_project
    outcome = _while_deleting(
        engine,
        operator_id,
        project_id,
        lambda session: projects.assign_photographer(
            session=session, operator_id=operator_id, project_id=project_id, photographer_id=photographer_id
        ),
    )
    assert isinstance(outcome.get("error"), NotFound)
    with Session(engine) as session:
        assert session.scalars(select(Assignment).where(Assignment.project_id == project_id)).all() == []


def test_joining_a_project_being_deleted_is_a_404(engine, operator_project):
    operator_id, project_id, _ = operator_project
    outcome = _while_deleting(
        engine,
        operator_id,
        project_id,
        lambda session: members.join_project(
            session=session,
            project_id=project_id,
            participant_id=uuid.uuid4(),
            email="guest@example.com",
            now=dt.datetime.now(dt.UTC),
        ),
    )
    assert isinstance(outcome.get("error"), NotFound)
    with Session(engine) as session:
        assert session.scalars(select(Member).where(Member.project_id == project_id)).all() == []
