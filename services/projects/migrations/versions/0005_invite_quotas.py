"""invite_quotas: invites each operator queued on the current UTC day (the daily invite quota)

One row per operator: the first invite of a new UTC day starts its count again. A counter rather than a
count of invite rows: deleting a project (its invites cascade away) must not hand the quota back.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invite_quotas",
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("invites", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("operator_id", name="pk_invite_quotas"),
        sa.CheckConstraint("invites >= 0", name="ck_invite_quotas_invites"),
    )


def downgrade() -> None:
    op.drop_table("invite_quotas")
