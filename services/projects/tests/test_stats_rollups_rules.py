"""The rollups (migration 0004) against a recount from the facts, after random histories of changes.

Each history writes random facts — projects created, archived and deleted; photographers assigned and
removed; joins and leaves; invites sent and withdrawn; photos uploaded, made ready and deleted; tags made
and removed — and then checks that (1) the analytics figures and the project list's counts equal a plain
recount from the fact tables, for several scopes, and (2) ``rollups_rebuild()`` finds nothing to change.
"""

import datetime as dt
import random
import uuid

import pytest
from sqlalchemy import text

from backoffice_common.db import one_after_another
from backoffice_common.service import dependency
from projects_service.config import Settings
from projects_service.models import Assignment, Invite, Member, Photo, Photographer, PhotoTag, Project
from projects_service.projects.listing import list_projects
from projects_service.stats.rules import FORMER_PHOTOGRAPHER, project_stats

RECOUNT = {
    "members_enrolled": "SELECT count(DISTINCT participant_id) FROM members WHERE project_id = ANY(:scope)",
    "invited": "SELECT count(DISTINCT email) FROM invites WHERE project_id = ANY(:scope)",
    "photos_uploaded": "SELECT count(*) FROM photos WHERE project_id = ANY(:scope) AND status = 'ready' "
    "AND (CAST(:photographers AS uuid[]) IS NULL OR photographer_id = ANY(:photographers))",
    "users_tagged": "SELECT count(DISTINCT t.participant_id) FROM photo_tags t JOIN photos p ON p.id = t.photo_id "
    "JOIN members m ON m.project_id = p.project_id AND m.participant_id = t.participant_id "
    "WHERE p.project_id = ANY(:scope) AND p.status = 'ready' "
    "AND (CAST(:photographers AS uuid[]) IS NULL OR p.photographer_id = ANY(:photographers))",
}


def recount(session, scope, photographers):
    params = {"scope": scope, "photographers": photographers}
    figures = {name: session.execute(text(sql), params).scalar() for name, sql in RECOUNT.items()}
    rows = session.execute(
        text(
            "SELECT coalesce(r.name, :former) AS name, count(*) AS n FROM photos p "
            "LEFT JOIN photographers r ON r.id = p.photographer_id WHERE p.project_id = ANY(:scope) "
            "AND p.status = 'ready' "
            "AND (CAST(:photographers AS uuid[]) IS NULL OR p.photographer_id = ANY(:photographers)) "
            "GROUP BY r.id, r.name"
        ),
        {**params, "former": FORMER_PHOTOGRAPHER},
    ).all()
    figures["photos_by_photographer"] = sorted((row.name, row.n) for row in rows)
    return figures


class History:
    """Random facts for two operators, written through the ORM as the services write them."""

    def __init__(self, session, rng: random.Random):
        self.session, self.rng = session, rng
        self.operators = [uuid.uuid4(), uuid.uuid4()]
        self.people = [uuid.uuid4() for _ in range(12)]
        self.emails = [f"guest{i}@x.io" for i in range(8)]
        self.roster = {operator: [] for operator in self.operators}
        self.photographers_ever = {operator: [] for operator in self.operators}

    def pick(self, model, **where):
        query = self.session.query(model).filter_by(**where)
        rows = query.all()
        return self.rng.choice(rows) if rows else None

    def step(self) -> None:
        s, rng = self.session, self.rng
        operator = rng.choice(self.operators)
        action = rng.choice(
            [
                "project",
                "project",
                "archive",
                "delete_project",
                "photographer",
                "unroster",
                "assign",
                "unassign",
                "join",
                "join",
                "join",
                "leave",
                "invite",
                "invite",
                "uninvite",
                "photo",
                "photo",
                "photo",
                "ready",
                "ready",
                "delete_photo",
                "tag",
                "tag",
                "tag",
                "untag",
            ]
        )
        project = self.pick(Project, operator_id=operator)
        if action == "project" or project is None:
            s.add(
                Project(
                    id=uuid.uuid4(),
                    operator_id=operator,
                    name=f"P{rng.randrange(1000)}",
                    status=rng.choice(["draft", "live", "closed"]),
                )
            )
        elif action == "archive":
            project.status = "archived"
        elif action == "delete_project":
            s.delete(project)
        elif action == "photographer":
            entry = Photographer(
                id=uuid.uuid4(), operator_id=operator, name=f"Ph{rng.randrange(100)}", email=f"{uuid.uuid4()}@x.io"
            )
            s.add(entry)
            self.photographers_ever[operator].append(entry.id)
        elif action == "unroster":
            entry = self.pick(Photographer, operator_id=operator)
            if entry is not None:
                s.query(Assignment).filter_by(photographer_id=entry.id).delete()
                s.delete(entry)
        elif action == "assign":
            entry = self.pick(Photographer, operator_id=operator)
            if entry is not None and s.get(Assignment, (project.id, entry.id)) is None:
                s.add(Assignment(project_id=project.id, photographer_id=entry.id))
        elif action == "unassign":
            assignment = self.pick(Assignment, project_id=project.id)
            if assignment is not None:
                s.delete(assignment)
        elif action == "join":
            person = rng.choice(self.people)
            if s.get(Member, (project.id, person)) is None:
                s.add(Member(project_id=project.id, participant_id=person, email="m@x.io"))
        elif action == "leave":
            member = self.pick(Member, project_id=project.id)
            if member is not None:
                s.delete(member)
        elif action == "invite":
            s.add(
                Invite(
                    project_id=project.id,
                    email=rng.choice(self.emails),
                    token_hash=uuid.uuid4().hex,
                    expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
                )
            )
        elif action == "uninvite":
            invite = self.pick(Invite, project_id=project.id)
            if invite is not None:
                s.delete(invite)
        elif action == "photo":
            photographers = self.photographers_ever[operator] or [uuid.uuid4()]
            s.add(
                Photo(
                    id=uuid.uuid4(),
                    project_id=project.id,
                    photographer_id=rng.choice(photographers),
                    object_key=f"k/{uuid.uuid4()}",
                    filename="a.jpg",
                    content_type="image/jpeg",
                    size_bytes=1,
                    status=rng.choice(["pending", "ready"]),
                )
            )
        elif action == "ready":
            photo = self.pick(Photo, project_id=project.id, status="pending")
            if photo is not None:
                photo.status = "ready"
        elif action == "delete_photo":
            photo = self.pick(Photo, project_id=project.id)
            if photo is not None:
                s.delete(photo)
        elif action == "tag":
            photo = self.pick(Photo, project_id=project.id)
            members = [m.participant_id for m in s.query(Member).filter_by(project_id=project.id)]
            if photo is not None and members:
                for person in rng.sample(members, k=min(len(members), rng.randint(1, 3))):
                    if s.get(PhotoTag, (photo.id, person)) is None:
                        s.add(PhotoTag(photo_id=photo.id, participant_id=person))
        elif action == "untag":
            photo = self.pick(Photo, project_id=project.id)
            tag = photo and self.pick(PhotoTag, photo_id=photo.id)
            if tag is not None:
                s.delete(tag)
        s.flush()
        s.expire_all()

    def check(self) -> None:
        s, rng = self.session, self.rng
        for operator in self.operators:
            projects = s.query(Project).filter_by(operator_id=operator).all()
            ids = [p.id for p in projects]
            live = [p.id for p in projects if p.status != "archived"]
            some = rng.sample(ids, k=rng.randint(0, len(ids))) if ids else []
            photographers = rng.sample(
                self.photographers_ever[operator], k=min(2, len(self.photographers_ever[operator]))
            )
            for project_ids, scope in ((None, live), (some, some), (ids, ids)):
                for narrowing in (None, photographers):
                    figures = project_stats(
                        read=one_after_another(s),
                        operator_id=operator,
                        project_ids=project_ids,
                        photographer_ids=narrowing,
                    )
                    expected = recount(s, scope, narrowing)
                    got = {name: getattr(figures, name) for name in RECOUNT}
                    got["photos_by_photographer"] = sorted(
                        (row.name, row.photo_count) for row in figures.photos_by_photographer
                    )
                    assert got == expected, (project_ids, narrowing)
            for row in list_projects(session=s, operator_id=operator):
                assert (row.photographer_count, row.member_count, row.photo_count) == s.execute(
                    text(
                        "SELECT (SELECT count(*) FROM project_photographers WHERE project_id = :p), "
                        "(SELECT count(*) FROM members WHERE project_id = :p), "
                        "(SELECT count(*) FROM photos WHERE project_id = :p AND status = 'ready')"
                    ),
                    {"p": row.id},
                ).one()
        assert s.execute(text("SELECT rollups_rebuild()")).scalar() == 0


@pytest.mark.parametrize("seed", range(6))
def test_rollups_equal_a_recount_after_random_histories(db_session, seed):
    history = History(db_session, random.Random(seed))
    for _round in range(8):
        for _ in range(40):
            history.step()
        history.check()


def test_rebuild_repairs_rollups_and_is_then_a_no_op(db_session):
    history = History(db_session, random.Random(99))
    for _ in range(120):
        history.step()
    db_session.execute(text("UPDATE photo_counts SET ready = ready + 7"))
    db_session.execute(text("DELETE FROM scope_people WHERE kind = 'm'"))
    db_session.execute(text("UPDATE operator_stats SET invited = 1000"))
    db_session.execute(text("DELETE FROM project_counts"))
    assert db_session.execute(text("SELECT rollups_rebuild()")).scalar() > 0
    history.check()  # the figures are right again, and a second rebuild changes nothing


def test_stats_rebuild_command_reports_each_database_with_rollups(app, pg_admin_url, capsys):
    """``make stats-rebuild``'s body: a database with rollups reports (nothing to do here); one without is skipped."""
    from backoffice_common.rollups import main

    with app.app_context():
        database_url = dependency(Settings).database_url
    assert main([database_url, pg_admin_url]) == 0
    assert capsys.readouterr().out == "unit_projects: nothing to rebuild\n"
