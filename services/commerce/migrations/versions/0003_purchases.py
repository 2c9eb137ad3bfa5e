"""purchases: purchases, their items, handled Stripe events; redemptions point at their purchase

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
        "purchases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("project_name", sa.String(200), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("participant_email", sa.String(320), nullable=False),
        sa.Column("participant_name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("photo_count", sa.Integer(), nullable=False),
        sa.Column("price_per_photo_cents", sa.Integer(), nullable=False),
        sa.Column("subtotal_cents", sa.Integer(), nullable=False),
        sa.Column("discount_applied_cents", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("applied_promo_code", sa.String(32), nullable=True),
        sa.Column(
            "promo_code_id",
            sa.Uuid(),
            sa.ForeignKey("promo_codes.id", ondelete="SET NULL", name="fk_purchases_promo_code_id_promo_codes"),
            nullable=True,
        ),
        sa.Column("stripe_payment_intent_id", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'paid', 'failed', 'refunded')", name="ck_purchases_status"),
        sa.CheckConstraint("photo_count >= 1", name="ck_purchases_photo_count"),
        sa.CheckConstraint(
            "subtotal_cents >= 0 AND discount_applied_cents >= 0 "
            "AND total_cents = subtotal_cents - discount_applied_cents AND total_cents >= 0",
            name="ck_purchases_amounts",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_purchases"),
        sa.UniqueConstraint("stripe_payment_intent_id", name="uq_purchases_stripe_payment_intent_id"),
    )
    op.execute(
        "CREATE INDEX ix_purchases_operator_id_created_at_id ON purchases (operator_id, created_at DESC, id DESC)"
    )
    op.create_index("ix_purchases_operator_id_project_id", "purchases", ["operator_id", "project_id"])
    op.create_index("ix_purchases_promo_code_id", "purchases", ["promo_code_id"])

    op.create_table(
        "purchase_items",
        sa.Column(
            "purchase_id",
            sa.Uuid(),
            sa.ForeignKey("purchases.id", ondelete="CASCADE", name="fk_purchase_items_purchase_id_purchases"),
            nullable=False,
        ),
        sa.Column("photo_id", sa.Uuid(), nullable=False),
        sa.Column("photographer_id", sa.Uuid(), nullable=False),
        sa.Column("share_cents", sa.Integer(), nullable=False),
        sa.CheckConstraint("share_cents >= 0", name="ck_purchase_items_share_cents"),
        sa.PrimaryKeyConstraint("purchase_id", "photo_id", name="pk_purchase_items"),
    )
    op.create_index("ix_purchase_items_photographer_id", "purchase_items", ["photographer_id"])

    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stripe_events"),
    )

    # Rows written before purchases existed have no purchase; the rest must point at a real one.
    op.execute(
        "UPDATE promo_code_redemptions SET purchase_id = NULL "
        "WHERE purchase_id IS NOT NULL AND purchase_id NOT IN (SELECT id FROM purchases)"
    )
    op.create_foreign_key(
        "fk_promo_code_redemptions_purchase_id_purchases",
        "promo_code_redemptions",
        "purchases",
        ["purchase_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index("ix_promo_code_redemptions_purchase_id", "promo_code_redemptions", ["purchase_id"])


def downgrade() -> None:
    op.drop_index("ix_promo_code_redemptions_purchase_id", table_name="promo_code_redemptions")
    op.drop_constraint("fk_promo_code_redemptions_purchase_id_purchases", "promo_code_redemptions", type_="foreignkey")
    op.drop_table("stripe_events")
    op.drop_table("purchase_items")
    op.drop_table("purchases")
