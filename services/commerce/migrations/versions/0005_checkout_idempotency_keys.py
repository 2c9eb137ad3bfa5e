"""checkout idempotency keys: a participant's key names one purchase; the code it asked for, to recognise a repeat

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
    op.add_column("purchases", sa.Column("idempotency_key", sa.String(255), nullable=True))
    # The promo code as the request gave it (normalised): the purchase only keeps the one that was applied.
    op.add_column("purchases", sa.Column("requested_promo_code", sa.String(200), nullable=True))
    op.create_index(
        "uq_purchases_participant_id_idempotency_key",
        "purchases",
        ["participant_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_purchases_participant_id_idempotency_key", table_name="purchases")
    op.drop_column("purchases", "requested_promo_code")
    op.drop_column("purchases", "idempotency_key")
