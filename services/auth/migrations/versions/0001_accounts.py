"""accounts, operator profiles, participants

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _timestamps():
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column(
            "operator_id",
            sa.Uuid(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE", name="fk_accounts_operator_id_accounts"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("role IN ('operator', 'photographer')", name="ck_accounts_role"),
        sa.UniqueConstraint("email", name="uq_accounts_email"),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
    )
    op.create_index("ix_accounts_operator_id", "accounts", ["operator_id"])
    op.create_table(
        "operator_profiles",
        sa.Column(
            "account_id",
            sa.Uuid(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE", name="fk_operator_profiles_account_id_accounts"),
            nullable=False,
        ),
        sa.Column("address", postgresql.JSONB(), nullable=True),
        sa.Column("billing_address", postgresql.JSONB(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("profile_picture_url", sa.String(2048), nullable=True),
        sa.PrimaryKeyConstraint("account_id", name="pk_operator_profiles"),
    )
    op.create_table(
        "participants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_participants"),
        sa.UniqueConstraint("email", name="uq_participants_email"),
    )


def downgrade() -> None:
    op.drop_table("participants")
    op.drop_table("operator_profiles")
    op.drop_table("accounts")
