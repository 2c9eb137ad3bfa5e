"""Rows for service tests: plain functions, each ``make_x(session, **overrides)``, flushed and returned."""

from __future__ import annotations

import uuid

from projects_service.models import Assignment, Member, Photo, Photographer, Project


def _flushed(session, row):
    session.add(row)
    session.flush()
    return row


def make_project(session, **overrides) -> Project:
    fields = {"id": uuid.uuid4(), "operator_id": uuid.uuid4(), "name": "Gala", "type": "private", "status": "draft"}
    return _flushed(session, Project(**{**fields, **overrides}))


def make_photographer(session, **overrides) -> Photographer:
    photographer_id = overrides.pop("id", None) or uuid.uuid4()
    fields = {"operator_id": uuid.uuid4(), "name": "Pat", "email": f"{photographer_id}@x.io"}
    return _flushed(session, Photographer(id=photographer_id, **{**fields, **overrides}))


def make_assignment(session, project: Project, photographer: Photographer) -> Assignment:
    return _flushed(session, Assignment(project_id=project.id, photographer_id=photographer.id))


def make_member(session, project: Project, **overrides) -> Member:
    fields = {"participant_id": uuid.uuid4(), "email": f"{uuid.uuid4().hex[:12]}@x.io"}
    return _flushed(session, Member(project_id=project.id, **{**fields, **overrides}))


def make_photo(session, project: Project, photographer: Photographer, **overrides) -> Photo:
    photo_id = overrides.pop("id", None) or uuid.uuid4()
    fields = {
        "object_key": f"{project.id}/{photo_id}",
        "filename": "a.jpg",
        "content_type": "image/jpeg",
        "size_bytes": 1,
        "status": "ready",
    }
    return _flushed(
        session, Photo(id=photo_id, project_id=project.id, photographer_id=photographer.id, **{**fields, **overrides})
    )
