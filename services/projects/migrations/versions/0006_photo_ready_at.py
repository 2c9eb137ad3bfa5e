"""photo ready_at, and joins and photos made ready per 15-minute slot: analytics over time (design §11)

- ``photos.ready_at``: set by a trigger whenever a photo is written ``ready`` without one (the upload's completion,
  or any other writer: a repair in psql, a test's insert), so every path is covered in one place; a ready photo
  always has one (check constraint: a bulk load with triggers off must fill it itself).
- Photos already ready take their ``updated_at``: completing the upload is the last write a photo row ever gets
  (tags and deletions never update it), so it is exactly when the photo became ready; ``created_at`` is when the
  upload URL was asked for, up to the URL's lifetime (or a slow upload's days) earlier.
- ``member_slots`` (joins per project) and ``photo_slots`` (photos made ready per project and photographer), per
  15-minute slot of UTC time: rollups kept by triggers in the same transaction as the fact, like migration 0004's,
  and recounted by ``rollups_rebuild()`` (replaced here with 0004's rollups and these two). Every time zone's offset
  is a whole number of quarter hours (since 1972 for every zone in the database), so a slot lies inside one local
  day, week and month of any zone and the buckets of a window are sums of whole slots: a 30-day window reads at most
  2,880 slots per project and photographer however many photos it holds (counting the photos themselves took
  150–350 ms for a month of 100,000 photos).

Revision ID: 0006
Revises: 0005
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from backoffice_common.rollups import Rollup, rebuild_function_sql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _rollups_0004():
    """Migration 0004's rollups and fact tables, which ``rollups_rebuild()`` keeps recounting."""
    spec = importlib.util.spec_from_file_location("rollups_0004", Path(__file__).with_name("0004_rollups.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SLOTS = (
    Rollup(
        "member_slots",
        ("project_id", "slot"),
        ("joins",),
        """
        SELECT project_id, rollup_slot(joined_at) AS slot, count(*)::int AS joins FROM members GROUP BY 1, 2""",
    ),
    Rollup(
        "photo_slots",
        ("project_id", "slot", "photographer_id"),
        ("ready",),
        """
        SELECT project_id, rollup_slot(ready_at) AS slot, photographer_id, count(*)::int AS ready FROM photos
        WHERE status = 'ready' GROUP BY 1, 2, 3""",
    ),
)

TRIGGERS = """
-- The 15-minute slot of UTC time holding a moment.
CREATE FUNCTION rollup_slot(moment timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
  SELECT date_bin('15 minutes', moment, TIMESTAMPTZ '2000-01-01 00:00:00+00')
$$;

CREATE FUNCTION photo_ready_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'ready' AND NEW.ready_at IS NULL THEN
    NEW.ready_at := now();
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER ready_at BEFORE INSERT OR UPDATE OF status, ready_at ON photos
  FOR EACH ROW EXECUTE FUNCTION photo_ready_at();

-- Slots move only while the project exists: a deleted project's slot rows go with it (foreign key), and its rows'
-- cascaded deletes then find no project and do nothing.
CREATE FUNCTION slots_member_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND rollup_operator_of(OLD.project_id) IS NOT NULL THEN
    UPDATE member_slots SET joins = joins - 1
    WHERE project_id = OLD.project_id AND slot = rollup_slot(OLD.joined_at);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND rollup_operator_of(NEW.project_id) IS NOT NULL THEN
    INSERT INTO member_slots AS s (project_id, slot, joins) VALUES (NEW.project_id, rollup_slot(NEW.joined_at), 1)
    ON CONFLICT (project_id, slot) DO UPDATE SET joins = s.joins + 1;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER slots AFTER INSERT OR DELETE ON members FOR EACH ROW EXECUTE FUNCTION slots_member_changed();
CREATE TRIGGER slots_update AFTER UPDATE OF project_id, joined_at ON members FOR EACH ROW
  WHEN (OLD.project_id IS DISTINCT FROM NEW.project_id OR OLD.joined_at IS DISTINCT FROM NEW.joined_at)
  EXECUTE FUNCTION slots_member_changed();

CREATE FUNCTION slots_photo_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'ready' AND rollup_operator_of(OLD.project_id) IS NOT NULL THEN
    UPDATE photo_slots SET ready = ready - 1
    WHERE project_id = OLD.project_id AND slot = rollup_slot(OLD.ready_at)
      AND photographer_id = OLD.photographer_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'ready' AND rollup_operator_of(NEW.project_id) IS NOT NULL THEN
    INSERT INTO photo_slots AS s (project_id, slot, photographer_id, ready)
    VALUES (NEW.project_id, rollup_slot(NEW.ready_at), NEW.photographer_id, 1)
    ON CONFLICT (project_id, slot, photographer_id) DO UPDATE SET ready = s.ready + 1;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER slots AFTER INSERT OR DELETE ON photos FOR EACH ROW EXECUTE FUNCTION slots_photo_changed();
CREATE TRIGGER slots_update AFTER UPDATE OF status, ready_at, project_id, photographer_id ON photos FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.ready_at IS DISTINCT FROM NEW.ready_at
        OR OLD.project_id IS DISTINCT FROM NEW.project_id OR OLD.photographer_id IS DISTINCT FROM NEW.photographer_id)
  EXECUTE FUNCTION slots_photo_changed();
"""


def _slots_table(name: str, *columns: sa.Column, key: tuple[str, ...]) -> None:
    op.create_table(
        name,
        sa.Column(
            "project_id",
            sa.Uuid(),
            sa.ForeignKey("projects.id", ondelete="CASCADE", name=f"fk_{name}_project_id_projects"),
            nullable=False,
        ),
        sa.Column("slot", sa.DateTime(timezone=True), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("project_id", "slot", *key, name=f"pk_{name}"),
    )


def upgrade() -> None:
    op.add_column("photos", sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE photos SET ready_at = updated_at WHERE status = 'ready'")
    op.create_check_constraint(op.f("ck_photos_ready_at"), "photos", "status <> 'ready' OR ready_at IS NOT NULL")
    _slots_table("member_slots", sa.Column("joins", sa.Integer(), server_default="0", nullable=False), key=())
    _slots_table(
        "photo_slots",
        sa.Column("photographer_id", sa.Uuid(), nullable=False),
        sa.Column("ready", sa.Integer(), server_default="0", nullable=False),
        key=("photographer_id",),
    )
    op.execute(TRIGGERS)
    before = _rollups_0004()
    op.execute(rebuild_function_sql(facts=before.FACTS, rollups=before.ROLLUPS + SLOTS))
    op.execute("SELECT rollups_rebuild()")


def downgrade() -> None:
    op.execute(_rollups_0004().REBUILD)
    for table in ("members", "photos"):
        op.execute(f"DROP TRIGGER slots ON {table}")
        op.execute(f"DROP TRIGGER slots_update ON {table}")
    op.execute("DROP TRIGGER ready_at ON photos")
    op.execute(
        "DROP FUNCTION slots_member_changed(), slots_photo_changed(), photo_ready_at(), rollup_slot(timestamptz)"
    )
    op.drop_table("photo_slots")
    op.drop_table("member_slots")
    op.drop_constraint("ck_photos_ready_at", "photos")
    op.drop_column("photos", "ready_at")
