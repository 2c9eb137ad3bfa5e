"""rollups: the project list's counts and analytics' figures, kept current by triggers

The project list and the analytics figures used to count up to millions of rows per request. These
tables hold the running totals instead; triggers on the fact tables keep them current in the same
transaction as the fact (deltas, never a recount, so concurrent writers add up), and
``rollups_rebuild()`` recounts them from the facts (run here to fill them, and by ``make stats-rebuild``).

- ``project_counts``: per project, assigned photographers, members and ready photos (the list's counts).
- ``photo_counts``: ready photos per project and photographer (photo counts everywhere).
- ``project_invitees``: invites per project and email; ``project_tagged`` / ``tagged_members``: per
  participant of a project, tags of them on ready photos (in all, and by the photo's photographer), and
  whether they are a member (only members count as tagged people).
- ``scope_people``: per operator and person, in how many of the operator's projects the person is a
  member (kind ``m``), invited (``i``) or a member tagged in a ready photo (``t``); ``operator_stats``
  counts the people with at least one. Distinct people over any set of projects follow from these
  without scanning every member (services/stats.py).

Triggers act only while the project exists: a project's delete takes its people out of the operator's
figures at once (BEFORE DELETE), and its rows' own cascaded deletes then find no project and do nothing.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from backoffice_common.rollups import Rollup, rebuild_function_sql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FACTS = ("projects", "project_photographers", "members", "invites", "photos", "photo_tags")

ROLLUPS = (
    Rollup(
        "project_counts",
        ("project_id",),
        ("photographers", "members", "ready_photos"),
        """
        SELECT p.id AS project_id,
               (SELECT count(*) FROM project_photographers a WHERE a.project_id = p.id)::int AS photographers,
               (SELECT count(*) FROM members m WHERE m.project_id = p.id)::int AS members,
               (SELECT count(*) FROM photos f WHERE f.project_id = p.id AND f.status = 'ready')::int AS ready_photos
        FROM projects p""",
        present="true",
    ),
    Rollup(
        "photo_counts",
        ("project_id", "photographer_id"),
        ("ready",),
        """
        SELECT project_id, photographer_id, count(*)::int AS ready FROM photos WHERE status = 'ready'
        GROUP BY project_id, photographer_id""",
    ),
    Rollup(
        "project_invitees",
        ("project_id", "email"),
        ("invites",),
        """
        SELECT project_id, email, count(*)::int AS invites FROM invites GROUP BY project_id, email""",
    ),
    Rollup(
        "tagged_members",
        ("project_id", "participant_id", "photographer_id"),
        ("ready_tags", "member"),
        """
        SELECT p.project_id, t.participant_id, p.photographer_id, count(*)::int AS ready_tags,
               EXISTS (SELECT 1 FROM members m WHERE m.project_id = p.project_id
                       AND m.participant_id = t.participant_id) AS member
        FROM photo_tags t JOIN photos p ON p.id = t.photo_id WHERE p.status = 'ready'
        GROUP BY p.project_id, t.participant_id, p.photographer_id""",
        present="r.ready_tags <> 0",
    ),
    Rollup(
        "project_tagged",
        ("project_id", "participant_id"),
        ("ready_tags", "member"),
        """
        SELECT p.project_id, t.participant_id, count(*)::int AS ready_tags,
               EXISTS (SELECT 1 FROM members m WHERE m.project_id = p.project_id
                       AND m.participant_id = t.participant_id) AS member
        FROM photo_tags t JOIN photos p ON p.id = t.photo_id WHERE p.status = 'ready'
        GROUP BY p.project_id, t.participant_id""",
        present="r.ready_tags <> 0",
    ),
    Rollup(
        "scope_people",
        ("operator_id", "kind", "person"),
        ("projects",),
        """
        SELECT p.operator_id, 'm'::char(1) AS kind, m.participant_id::text AS person, count(*)::int AS projects
          FROM members m JOIN projects p ON p.id = m.project_id GROUP BY 1, 2, 3
        UNION ALL
        SELECT p.operator_id, 'i', i.email, count(DISTINCT i.project_id)::int
          FROM invites i JOIN projects p ON p.id = i.project_id GROUP BY 1, 2, 3
        UNION ALL
        SELECT p.operator_id, 't', m.participant_id::text, count(DISTINCT m.project_id)::int
          FROM members m JOIN projects p ON p.id = m.project_id
          WHERE EXISTS (SELECT 1 FROM photo_tags t JOIN photos f ON f.id = t.photo_id
                        WHERE f.project_id = m.project_id AND t.participant_id = m.participant_id
                          AND f.status = 'ready')
          GROUP BY 1, 2, 3""",
    ),
    Rollup(
        "operator_stats",
        ("operator_id",),
        ("members_enrolled", "invited", "users_tagged"),
        """
        SELECT o.operator_id,
               count(*) FILTER (WHERE s.kind = 'm')::int AS members_enrolled,
               count(*) FILTER (WHERE s.kind = 'i')::int AS invited,
               count(*) FILTER (WHERE s.kind = 't')::int AS users_tagged
        FROM (SELECT DISTINCT operator_id FROM projects) o
        LEFT JOIN scope_people s ON s.operator_id = o.operator_id AND s.projects > 0
        GROUP BY o.operator_id""",
    ),  # after scope_people: the rebuild has just made that one right
)
REBUILD = rebuild_function_sql(facts=FACTS, rollups=ROLLUPS)

TRIGGERS = r"""
-- The operator's count of distinct people of a kind follows scope_people's rows going from 0 to 1 and back.
CREATE FUNCTION rollup_people(op uuid, k char(1), who text[], delta integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  crossed integer;
BEGIN
  IF delta > 0 THEN
    WITH moved AS (
      INSERT INTO scope_people AS s (operator_id, kind, person, projects)
      SELECT op, k, person, delta FROM unnest(who) AS person ORDER BY person
      ON CONFLICT (operator_id, kind, person) DO UPDATE SET projects = s.projects + delta
      RETURNING s.projects)
    SELECT count(*) FILTER (WHERE projects = delta) INTO crossed FROM moved;
  ELSE
    WITH moved AS (
      UPDATE scope_people s SET projects = s.projects + delta
      WHERE s.operator_id = op AND s.kind = k AND s.person = ANY(who)
      RETURNING s.projects)
    SELECT -count(*) FILTER (WHERE projects = 0) INTO crossed FROM moved;
  END IF;
  IF crossed <> 0 THEN
    INSERT INTO operator_stats AS o (operator_id, members_enrolled, invited, users_tagged)
    VALUES (op, CASE k WHEN 'm' THEN crossed ELSE 0 END, CASE k WHEN 'i' THEN crossed ELSE 0 END,
            CASE k WHEN 't' THEN crossed ELSE 0 END)
    ON CONFLICT (operator_id) DO UPDATE SET
      members_enrolled = o.members_enrolled + excluded.members_enrolled,
      invited = o.invited + excluded.invited,
      users_tagged = o.users_tagged + excluded.users_tagged;
  END IF;
END $$;

CREATE FUNCTION rollup_operator_of(project uuid) RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT operator_id FROM projects WHERE id = project
$$;

-- Projects: a new project starts at zero; a deleted one takes its people out of its operator's figures.
CREATE FUNCTION rollups_project_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO project_counts (project_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
  INSERT INTO operator_stats (operator_id) VALUES (NEW.operator_id) ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER rollups_insert AFTER INSERT ON projects FOR EACH ROW EXECUTE FUNCTION rollups_project_inserted();

CREATE FUNCTION rollups_project_deleting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM rollup_people(OLD.operator_id, 'm',
                        ARRAY(SELECT participant_id::text FROM members WHERE project_id = OLD.id), -1);
  PERFORM rollup_people(OLD.operator_id, 'i',
                        ARRAY(SELECT email FROM project_invitees WHERE project_id = OLD.id AND invites > 0), -1);
  PERFORM rollup_people(OLD.operator_id, 't',
                        ARRAY(SELECT participant_id::text FROM project_tagged
                              WHERE project_id = OLD.id AND ready_tags > 0 AND member), -1);
  RETURN OLD;
END $$;
CREATE TRIGGER rollups_delete BEFORE DELETE ON projects FOR EACH ROW EXECUTE FUNCTION rollups_project_deleting();

-- Assignments: the list's photographer count.
CREATE FUNCTION rollups_assignment_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE project_counts SET photographers = photographers + 1 WHERE project_id = NEW.project_id;
  ELSE
    UPDATE project_counts SET photographers = photographers - 1 WHERE project_id = OLD.project_id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER rollups AFTER INSERT OR DELETE ON project_photographers
  FOR EACH ROW EXECUTE FUNCTION rollups_assignment_changed();

-- Members: the list's member count, the operator's distinct members, and (for one tagged before
-- leaving and joining again) its tagged people.
CREATE FUNCTION rollups_member_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  fact members%ROWTYPE;
  delta integer;
  op uuid;
BEGIN
  IF TG_OP = 'INSERT' THEN fact := NEW; delta := 1; ELSE fact := OLD; delta := -1; END IF;
  op := rollup_operator_of(fact.project_id);
  IF op IS NULL THEN RETURN NULL; END IF;  -- the project is being deleted: done by its trigger
  UPDATE project_counts SET members = members + delta WHERE project_id = fact.project_id;
  PERFORM rollup_people(op, 'm', ARRAY[fact.participant_id::text], delta);
  UPDATE tagged_members SET member = (delta > 0)
  WHERE project_id = fact.project_id AND participant_id = fact.participant_id;
  UPDATE project_tagged SET member = (delta > 0)
  WHERE project_id = fact.project_id AND participant_id = fact.participant_id;
  IF EXISTS (SELECT 1 FROM project_tagged WHERE project_id = fact.project_id
             AND participant_id = fact.participant_id AND ready_tags > 0) THEN
    PERFORM rollup_people(op, 't', ARRAY[fact.participant_id::text], delta);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER rollups AFTER INSERT OR DELETE ON members FOR EACH ROW EXECUTE FUNCTION rollups_member_changed();

-- Invites: distinct invited emails.
CREATE FUNCTION rollups_invite_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  fact invites%ROWTYPE;
  delta integer;
  op uuid;
  now_invites integer;
BEGIN
  IF TG_OP = 'INSERT' THEN fact := NEW; delta := 1; ELSE fact := OLD; delta := -1; END IF;
  op := rollup_operator_of(fact.project_id);
  IF op IS NULL THEN RETURN NULL; END IF;
  INSERT INTO project_invitees AS v (project_id, email, invites) VALUES (fact.project_id, fact.email, delta)
  ON CONFLICT (project_id, email) DO UPDATE SET invites = v.invites + delta
  RETURNING v.invites INTO now_invites;
  IF (delta > 0 AND now_invites = 1) OR (delta < 0 AND now_invites = 0) THEN
    PERFORM rollup_people(op, 'i', ARRAY[fact.email::text], delta);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER rollups AFTER INSERT OR DELETE ON invites FOR EACH ROW EXECUTE FUNCTION rollups_invite_changed();

-- Tags of a ready photo count for its project and photographer; a member's first one makes them tagged.
CREATE FUNCTION rollup_tags(op uuid, project uuid, photographer uuid, who uuid[], delta integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  crossed text[];
BEGIN
  IF cardinality(who) = 0 THEN RETURN; END IF;
  -- ``member``: only members count as tagged people (tags are only ever made of members; kept exact anyway).
  INSERT INTO tagged_members AS t (project_id, participant_id, photographer_id, ready_tags, member)
  SELECT project, participant, photographer, delta,
         EXISTS (SELECT 1 FROM members m WHERE m.project_id = project AND m.participant_id = participant)
  FROM unnest(who) AS participant ORDER BY participant
  ON CONFLICT (project_id, participant_id, photographer_id) DO UPDATE SET ready_tags = t.ready_tags + delta;
  WITH moved AS (
    INSERT INTO project_tagged AS t (project_id, participant_id, ready_tags, member)
    SELECT project, participant, delta,
           EXISTS (SELECT 1 FROM members m WHERE m.project_id = project AND m.participant_id = participant)
    FROM unnest(who) AS participant ORDER BY participant
    ON CONFLICT (project_id, participant_id) DO UPDATE SET ready_tags = t.ready_tags + delta
    RETURNING t.participant_id, t.ready_tags, t.member)
  SELECT coalesce(array_agg(moved.participant_id::text), '{}') INTO crossed FROM moved
  WHERE moved.member AND ((delta > 0 AND moved.ready_tags = delta) OR (delta < 0 AND moved.ready_tags = 0));
  IF cardinality(crossed) > 0 THEN
    PERFORM rollup_people(op, 't', crossed, delta);
  END IF;
END $$;

CREATE FUNCTION rollups_tag_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  fact photo_tags%ROWTYPE;
  photo photos%ROWTYPE;
  op uuid;
BEGIN
  IF TG_OP = 'INSERT' THEN fact := NEW; ELSE fact := OLD; END IF;
  SELECT * INTO photo FROM photos WHERE id = fact.photo_id;
  IF NOT FOUND OR photo.status <> 'ready' THEN RETURN NULL; END IF;  -- a deleted photo's trigger did it
  op := rollup_operator_of(photo.project_id);
  IF op IS NULL THEN RETURN NULL; END IF;
  PERFORM rollup_tags(op, photo.project_id, photo.photographer_id, ARRAY[fact.participant_id],
                      CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END);
  RETURN NULL;
END $$;
CREATE TRIGGER rollups AFTER INSERT OR DELETE ON photo_tags FOR EACH ROW EXECUTE FUNCTION rollups_tag_changed();

-- Photos: counted while ready, with their tags.
CREATE FUNCTION rollup_photo(photo photos, delta integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  op uuid;
BEGIN
  IF photo.status <> 'ready' THEN RETURN; END IF;
  op := rollup_operator_of(photo.project_id);
  IF op IS NULL THEN RETURN; END IF;
  INSERT INTO photo_counts AS c (project_id, photographer_id, ready)
  VALUES (photo.project_id, photo.photographer_id, delta)
  ON CONFLICT (project_id, photographer_id) DO UPDATE SET ready = c.ready + delta;
  UPDATE project_counts SET ready_photos = ready_photos + delta WHERE project_id = photo.project_id;
  PERFORM rollup_tags(op, photo.project_id, photo.photographer_id,
                      ARRAY(SELECT participant_id FROM photo_tags WHERE photo_id = photo.id), delta);
END $$;

CREATE FUNCTION rollups_photo_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM rollup_photo(OLD, -1); END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN PERFORM rollup_photo(NEW, 1); END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER rollups_insert AFTER INSERT ON photos FOR EACH ROW EXECUTE FUNCTION rollups_photo_changed();
CREATE TRIGGER rollups_update AFTER UPDATE OF status, project_id, photographer_id ON photos FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.project_id IS DISTINCT FROM NEW.project_id
        OR OLD.photographer_id IS DISTINCT FROM NEW.photographer_id)
  EXECUTE FUNCTION rollups_photo_changed();
-- Before the delete: its tags are still there to be taken out (their cascaded deletes then find no photo).
CREATE TRIGGER rollups_delete BEFORE DELETE ON photos FOR EACH ROW EXECUTE FUNCTION rollups_photo_changed();
"""


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), server_default="0", nullable=False)


def _per_project(table: str, *columns: sa.Column, key: tuple[str, ...]) -> None:
    """A rollup table keyed by project (its rows go with the project) and ``key``."""
    op.create_table(
        table,
        sa.Column(
            "project_id",
            sa.Uuid(),
            sa.ForeignKey("projects.id", ondelete="CASCADE", name=f"fk_{table}_project_id_projects"),
            nullable=False,
        ),
        *columns,
        sa.PrimaryKeyConstraint("project_id", *key, name=f"pk_{table}"),
    )


def upgrade() -> None:
    member = sa.Column("member", sa.Boolean(), server_default="false", nullable=False)
    _per_project("project_counts", _count("photographers"), _count("members"), _count("ready_photos"), key=())
    _per_project(
        "photo_counts",
        sa.Column("photographer_id", sa.Uuid(), nullable=False),
        _count("ready"),
        key=("photographer_id",),
    )
    _per_project(
        "project_invitees", sa.Column("email", sa.String(320), nullable=False), _count("invites"), key=("email",)
    )
    _per_project(
        "tagged_members",
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("photographer_id", sa.Uuid(), nullable=False),
        _count("ready_tags"),
        member,
        key=("participant_id", "photographer_id"),
    )
    # Narrowing by photographer reads their tagged members only, from the index alone.
    op.create_index(
        "ix_tagged_members_photographer_id",
        "tagged_members",
        ["photographer_id", "project_id", "participant_id"],
        postgresql_where=sa.text("ready_tags > 0 AND member"),
    )
    _per_project(
        "project_tagged",
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        _count("ready_tags"),
        member._copy(),
        key=("participant_id",),
    )
    op.create_table(
        "scope_people",
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.CHAR(1), nullable=False),
        sa.Column("person", sa.Text(), nullable=False),
        _count("projects"),
        sa.PrimaryKeyConstraint("operator_id", "kind", "person", name="pk_scope_people"),
        sa.CheckConstraint("kind IN ('m', 'i', 't')", name="ck_scope_people_kind"),
    )
    op.create_table(
        "operator_stats",
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        _count("members_enrolled"),
        _count("invited"),
        _count("users_tagged"),
        sa.PrimaryKeyConstraint("operator_id", name="pk_operator_stats"),
    )
    op.execute(TRIGGERS)
    op.execute(REBUILD)
    op.execute("SELECT rollups_rebuild()")


def downgrade() -> None:
    for table in ("photo_tags", "invites", "members", "project_photographers"):
        op.execute(f"DROP TRIGGER rollups ON {table}")
    for name in ("rollups_insert", "rollups_update", "rollups_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON photos")
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON projects")
    op.execute(
        "DROP FUNCTION rollups_rebuild(), rollups_photo_changed(), rollup_photo(photos, integer), "
        "rollups_tag_changed(), rollup_tags(uuid, uuid, uuid, uuid[], integer), rollups_invite_changed(), "
        "rollups_member_changed(), rollups_assignment_changed(), rollups_project_deleting(), "
        "rollups_project_inserted(), rollup_operator_of(uuid), rollup_people(uuid, char, text[], integer)"
    )
    for table in (
        "operator_stats",
        "scope_people",
        "project_tagged",
        "tagged_members",
        "project_invitees",
        "photo_counts",
        "project_counts",
    ):
        op.drop_table(table)
