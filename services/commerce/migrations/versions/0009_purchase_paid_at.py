"""purchase paid_at: the moment a purchase became paid, for analytics over time (design §11)

- ``purchases.paid_at``: set by a trigger whenever a purchase is written ``paid`` without one — checkout's free
  purchase, the webhook's and the sweeper's moves, a repair in psql — so every path is covered in one place; it is
  kept when the purchase is refunded later (``refunded_at``, migration 0007, says when that happened). A paid
  purchase always has one (check constraint: a bulk load with triggers off must fill it itself).
- Purchases already paid take their ``updated_at``: becoming paid is the last write a paid purchase gets (only a
  refund moves it on, and then it is no longer paid). Purchases already refunded take their ``created_at``: when
  their payment happened is lost (their ``updated_at`` is the refund's), and a payment follows its checkout
  within minutes; no figure reads it (a refunded purchase counts nowhere), it only keeps "was paid, at about".
  Pending and failed purchases were never paid: none.
- Index for a window of days over the scope's projects: paid purchases by (operator, project, paid_at) carrying
  the total, so a day's revenue is read from the index alone.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("purchases", sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True))
    # paid_at alone is not a change the rollup triggers look at (their WHEN clause), so this is one pass.
    op.execute("UPDATE purchases SET paid_at = updated_at WHERE status = 'paid'")
    op.execute("UPDATE purchases SET paid_at = created_at WHERE status = 'refunded'")
    op.create_check_constraint(op.f("ck_purchases_paid_at"), "purchases", "status <> 'paid' OR paid_at IS NOT NULL")
    op.execute(
        """
CREATE FUNCTION purchase_paid_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'paid' AND NEW.paid_at IS NULL THEN
    NEW.paid_at := now();
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER paid_at BEFORE INSERT OR UPDATE OF status, paid_at ON purchases
  FOR EACH ROW EXECUTE FUNCTION purchase_paid_at();
"""
    )
    op.create_index(
        "ix_purchases_operator_id_project_id_paid_at",
        "purchases",
        ["operator_id", "project_id", "paid_at"],
        postgresql_include=["total_cents"],
        postgresql_where=sa.text("status = 'paid'"),
    )


def downgrade() -> None:
    op.drop_index("ix_purchases_operator_id_project_id_paid_at", "purchases")
    op.execute("DROP TRIGGER paid_at ON purchases")
    op.execute("DROP FUNCTION purchase_paid_at()")
    op.drop_constraint("ck_purchases_paid_at", "purchases")
    op.drop_column("purchases", "paid_at")
