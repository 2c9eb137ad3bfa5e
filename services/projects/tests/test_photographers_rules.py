"""A roster edit spans two services: auth's login first, then our row — both or neither (design §4)."""

import pytest

from backoffice_common.db import db
from backoffice_common.errors import Conflict, ServiceUnavailable
from projects_service.photographers import rules
from services.projects.tests.factories import make_assignment, make_photographer, make_project


class FakeAuth:
    """auth's side of the roster: records each change asked for; the first one may fail."""

    def __init__(self, first_fails_with: Exception | None = None):
        self.changes = []
        self.first_fails_with = first_fails_with

    def update_photographer(self, photographer_id, changes):
        self.changes.append(changes)
        if self.first_fails_with is not None and len(self.changes) == 1:
            raise self.first_fails_with


def _edit(auth, photographer, changes):
    with db.unit_of_work() as session:
        return rules.update_photographer(
            session=session,
            auth=auth,
            operator_id=photographer.operator_id,
            photographer_id=photographer.id,
            changes=changes,
        )


def test_an_edit_changes_auth_then_the_roster_and_answers_with_the_projects(db_session):
    photographer = make_photographer(db_session, name="Pat")
    project = make_project(db_session, operator_id=photographer.operator_id, name="Gala")
    make_assignment(db_session, project, photographer)
    auth = FakeAuth()
    edited = _edit(auth, photographer, {"name": "Patricia", "email": photographer.email})
    assert auth.changes == [{"name": "Patricia"}]  # only what changes
    assert (edited.name, [(p.id, p.name) for p in edited.projects]) == ("Patricia", [(project.id, "Gala")])


def test_auth_unreachable_puts_the_old_values_back_after_the_rollback(db_session):
    photographer = make_photographer(db_session, name="Pat")
    auth = FakeAuth(first_fails_with=ServiceUnavailable())
    with pytest.raises(ServiceUnavailable):
        _edit(auth, photographer, {"name": "Patricia"})
    assert auth.changes == [{"name": "Patricia"}, {"name": "Pat"}]  # the change may have landed: undone


def test_a_clean_refusal_needs_no_undo(db_session):
    photographer = make_photographer(db_session)
    auth = FakeAuth(first_fails_with=Conflict("Email already registered."))
    with pytest.raises(Conflict):
        _edit(auth, photographer, {"email": "taken@x.io"})
    assert auth.changes == [{"email": "taken@x.io"}]
