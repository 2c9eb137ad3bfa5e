"""purchase refunded_at: when a purchase became refunded (the operator's refund, or Stripe's charge.refunded)

Purchases refunded before this column existed take their last change as the moment: a refund was the last
move a refunded purchase could make.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("purchases", sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE purchases SET refunded_at = updated_at WHERE status = 'refunded'")


def downgrade() -> None:
    op.drop_column("purchases", "refunded_at")
