"""photo ready_at: the moment a photo became ready, for analytics over time (design §11)

- ``photos.ready_at``: set by a trigger whenever a photo is written ``ready`` without one (the upload's completion,
  or any other writer: a repair in psql, a test's insert), so every path is covered in one place; a ready photo
  always has one (check constraint: a bulk load with triggers off must fill it itself).
- Photos already ready take their ``updated_at``: completing the upload is the last write a photo row ever gets
  (tags and deletions never update it), so it is exactly when the photo became ready; ``created_at`` is when the
  upload URL was asked for, up to the URL's lifetime (or a slow upload's days) earlier.
- Indexes for a window of days over the scope's projects: ready photos by (project, ready_at) carrying the
  photographer (the ``photographerIds`` filter without reading the table), members by (project, joined_at).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("photos", sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE photos SET ready_at = updated_at WHERE status = 'ready'")
    op.create_check_constraint(op.f("ck_photos_ready_at"), "photos", "status <> 'ready' OR ready_at IS NOT NULL")
    op.execute(
        """
CREATE FUNCTION photo_ready_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'ready' AND NEW.ready_at IS NULL THEN
    NEW.ready_at := now();
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER ready_at BEFORE INSERT OR UPDATE OF status, ready_at ON photos
  FOR EACH ROW EXECUTE FUNCTION photo_ready_at();
"""
    )
    op.create_index(
        "ix_photos_project_id_ready_at",
        "photos",
        ["project_id", "ready_at"],
        postgresql_include=["photographer_id"],
        postgresql_where=sa.text("status = 'ready'"),
    )
    op.create_index("ix_members_project_id_joined_at", "members", ["project_id", "joined_at"])


def downgrade() -> None:
    op.drop_index("ix_members_project_id_joined_at", "members")
    op.drop_index("ix_photos_project_id_ready_at", "photos")
    op.execute("DROP TRIGGER ready_at ON photos")
    op.execute("DROP FUNCTION photo_ready_at()")
    op.drop_constraint("ck_photos_ready_at", "photos")
    op.drop_column("photos", "ready_at")
