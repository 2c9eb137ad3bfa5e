"""pending purchases by age: what the commerce worker's sweep reads every minute

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_purchases_pending_created_at ON purchases (created_at) WHERE status = 'pending'")


def downgrade() -> None:
    op.drop_index("ix_purchases_pending_created_at", table_name="purchases")
