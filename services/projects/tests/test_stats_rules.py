"""The projects side of analytics (design §7): scope, distinct people, ready photos, photographer narrowing."""

import datetime as dt
import uuid

from backoffice_common.db import one_after_another
from projects_service.models import Invite, Member, Photo, Photographer, PhotoTag, Project
from projects_service.stats.rules import FORMER_PHOTOGRAPHER, ProjectStats, project_stats, scope_of


def _project(session, operator_id, name, status="live"):
    project = Project(id=uuid.uuid4(), operator_id=operator_id, name=name, status=status)
    session.add(project)
    session.flush()
    return project


def _photo(session, project, photographer_id, status="ready"):
    photo = Photo(
        id=uuid.uuid4(),
        project_id=project.id,
        photographer_id=photographer_id,
        object_key=f"k/{uuid.uuid4()}",
        filename="a.jpg",
        content_type="image/jpeg",
        size_bytes=1,
        status=status,
    )
    session.add(photo)
    session.flush()
    return photo


def _world(session):
    """Two projects and an archived one for the operator, one for a stranger; people shared across projects."""
    operator_id = uuid.uuid4()
    ann, bob = (
        Photographer(id=uuid.uuid4(), operator_id=operator_id, name=name, email=f"{uuid.uuid4()}@x.io")
        for name in ("Ann", "Bob")
    )
    session.add_all([ann, bob])
    alpha, beta = _project(session, operator_id, "Alpha"), _project(session, operator_id, "Beta")
    old = _project(session, operator_id, "Old", status="archived")
    foreign = _project(session, uuid.uuid4(), "Foreign")
    guest, other_guest = uuid.uuid4(), uuid.uuid4()
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    for project in (alpha, beta, old, foreign):  # the same person in every project counts once
        session.add(Member(project_id=project.id, participant_id=guest, email="g@x.io"))
        session.add(Invite(project_id=project.id, email="g@x.io", token_hash=uuid.uuid4().hex, expires_at=expires))
    session.add(Member(project_id=beta.id, participant_id=other_guest, email="o@x.io"))
    session.add(Invite(project_id=beta.id, email="o@x.io", token_hash=uuid.uuid4().hex, expires_at=expires))
    session.add(Invite(project_id=beta.id, email="o@x.io", token_hash=uuid.uuid4().hex, expires_at=expires))
    session.add(Invite(project_id=alpha.id, email="never@x.io", token_hash=uuid.uuid4().hex, expires_at=expires))
    session.flush()
    ann_photos = [_photo(session, alpha, ann.id) for _ in range(3)] + [_photo(session, beta, ann.id)]
    bob_photo = _photo(session, beta, bob.id)
    _photo(session, beta, bob.id, status="pending")  # not uploaded: counts nowhere
    _photo(session, old, bob.id)
    for _ in range(2):  # photographers since removed from the roster: one "former" row between them
        _photo(session, alpha, uuid.uuid4())
    session.add_all(
        [
            PhotoTag(photo_id=ann_photos[0].id, participant_id=guest),
            PhotoTag(photo_id=ann_photos[3].id, participant_id=guest),
            PhotoTag(photo_id=bob_photo.id, participant_id=other_guest),
        ]
    )
    session.flush()
    return operator_id, alpha, beta, old, foreign, ann, bob


def test_default_scope_is_every_non_archived_project(db_session):
    operator_id, alpha, beta, *_ = _world(db_session)
    figures = project_stats(
        read=one_after_another(db_session), operator_id=operator_id, project_ids=None, photographer_ids=None
    )
    assert [(p.id, p.name) for p in figures.projects] == [(alpha.id, "Alpha"), (beta.id, "Beta")]
    assert (figures.members_enrolled, figures.invited, figures.photos_uploaded, figures.users_tagged) == (2, 3, 7, 2)
    assert [(row.name, row.photo_count) for row in figures.photos_by_photographer] == [
        ("Ann", 4),
        (FORMER_PHOTOGRAPHER, 2),
        ("Bob", 1),
    ]


def test_named_projects_include_archived_and_ignore_strangers(db_session):
    operator_id, alpha, beta, old, foreign, ann, bob = _world(db_session)
    figures = project_stats(
        read=one_after_another(db_session),
        operator_id=operator_id,
        project_ids=[old.id, foreign.id, uuid.uuid4()],
        photographer_ids=None,
    )
    assert [(p.id, p.name) for p in figures.projects] == [(old.id, "Old")]
    assert (figures.members_enrolled, figures.invited, figures.photos_uploaded, figures.users_tagged) == (1, 1, 1, 0)


def test_photographers_narrow_photos_and_tags_but_not_people_enrolled(db_session):
    operator_id, alpha, beta, old, foreign, ann, bob = _world(db_session)
    figures = project_stats(
        read=one_after_another(db_session), operator_id=operator_id, project_ids=None, photographer_ids=[bob.id]
    )
    assert (figures.members_enrolled, figures.invited, figures.photos_uploaded, figures.users_tagged) == (2, 3, 1, 1)
    assert [(row.name, row.photo_count) for row in figures.photos_by_photographer] == [("Bob", 1)]


def test_nothing_in_scope(db_session):
    figures = project_stats(
        read=one_after_another(db_session), operator_id=uuid.uuid4(), project_ids=None, photographer_ids=None
    )
    assert figures == ProjectStats(
        projects=[], members_enrolled=0, invited=0, photos_uploaded=0, users_tagged=0, photos_by_photographer=[]
    )


def test_the_scope_and_the_figures_over_its_ids_are_the_default_scopes(db_session):
    """analytics asks for the scope first, then both services about its ids by name: the figures must be those of
    the scope asked for (default or named), and a project archived in between stays counted."""
    operator_id, alpha, beta, old, foreign, ann, bob = _world(db_session)
    scope = scope_of(read=one_after_another(db_session), operator_id=operator_id, project_ids=None)
    assert scope.project_ids == [alpha.id, beta.id]
    named = scope_of(
        read=one_after_another(db_session), operator_id=operator_id, project_ids=[old.id, foreign.id, uuid.uuid4()]
    )
    assert named.project_ids == [old.id]
    for photographers in (None, [bob.id]):
        default = project_stats(
            read=one_after_another(db_session),
            operator_id=operator_id,
            project_ids=None,
            photographer_ids=photographers,
        )
        by_ids = project_stats(
            read=one_after_another(db_session),
            operator_id=operator_id,
            project_ids=scope.project_ids,
            photographer_ids=photographers,
        )
        assert by_ids == default
    beta.status = "archived"
    db_session.flush()
    later = project_stats(
        read=one_after_another(db_session),
        operator_id=operator_id,
        project_ids=scope.project_ids,
        photographer_ids=None,
    )
    assert [p.id for p in later.projects] == [alpha.id, beta.id] and later.members_enrolled == 2
    assert scope_of(read=one_after_another(db_session), operator_id=uuid.uuid4(), project_ids=None).project_ids == []
