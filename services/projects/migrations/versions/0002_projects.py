"""projects, assignments, members, photos, outbox

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _timestamps():
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("location_name", sa.String(200)),
        sa.Column("start_at", sa.DateTime(timezone=True)),
        sa.Column("end_at", sa.DateTime(timezone=True)),
        sa.Column("project_link", sa.String(2048)),
        sa.Column("terms_and_conditions", sa.Text()),
        sa.Column("timezone", sa.String(64)),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_projects"),
        sa.CheckConstraint("type IN ('private', 'public')", name="ck_projects_type"),
        sa.CheckConstraint("status IN ('draft', 'live', 'closed', 'archived')", name="ck_projects_status"),
        sa.CheckConstraint(
            "start_at IS NULL OR end_at IS NULL OR start_at <= end_at", name="ck_projects_dates_ordered"
        ),
    )
    # The operator's list: newest first, archived filtered.
    op.create_index("ix_projects_operator_id", "projects", ["operator_id", "created_at"])
    op.create_table(
        "project_photographers",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("photographer_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "photographer_id", name="pk_project_photographers"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], ondelete="CASCADE", name="fk_project_photographers_project_id_projects"
        ),
        sa.ForeignKeyConstraint(
            ["photographer_id"], ["photographers.id"], name="fk_project_photographers_photographer_id_photographers"
        ),
    )
    op.create_index("ix_project_photographers_photographer_id", "project_photographers", ["photographer_id"])
    op.create_table(
        "members",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "participant_id", name="pk_members"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], ondelete="CASCADE", name="fk_members_project_id_projects"
        ),
    )
    op.create_index("ix_members_participant_id", "members", ["participant_id"])
    op.create_table(
        "photos",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("photographer_id", sa.Uuid(), nullable=False),
        sa.Column("object_key", sa.String(1024), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_photos"),
        sa.UniqueConstraint("object_key", name="uq_photos_object_key"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], ondelete="CASCADE", name="fk_photos_project_id_projects"
        ),
        sa.CheckConstraint("status IN ('pending', 'ready')", name="ck_photos_status"),
    )
    op.create_index("ix_photos_project_id", "photos", ["project_id", "status"])
    op.create_index("ix_photos_photographer_id", "photos", ["photographer_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_next_attempt_at", "outbox", ["next_attempt_at"])


def downgrade() -> None:
    for table in ("outbox", "photos", "members", "project_photographers", "projects"):
        op.drop_table(table)
