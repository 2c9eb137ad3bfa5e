"""invites, photo tags, members by email

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invites",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_invites"),
        sa.UniqueConstraint("token_hash", name="uq_invites_token_hash"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], ondelete="CASCADE", name="fk_invites_project_id_projects"
        ),
    )
    op.create_index("ix_invites_project_id", "invites", ["project_id", "created_at"])
    op.create_index("ix_invites_project_email", "invites", ["project_id", "email"])
    op.create_index("ix_members_project_email", "members", ["project_id", "email"])
    op.create_table(
        "photo_tags",
        sa.Column("photo_id", sa.Uuid(), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("photo_id", "participant_id", name="pk_photo_tags"),
        sa.ForeignKeyConstraint(["photo_id"], ["photos.id"], ondelete="CASCADE", name="fk_photo_tags_photo_id_photos"),
    )
    op.create_index("ix_photo_tags_participant_id", "photo_tags", ["participant_id"])


def downgrade() -> None:
    op.drop_table("photo_tags")
    op.drop_index("ix_members_project_email", "members")
    op.drop_table("invites")
