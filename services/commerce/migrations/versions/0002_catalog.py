"""catalog: pricing rules, discounts, promo codes, project discount links, promo code redemptions

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NIL_UUID = "00000000-0000-0000-0000-000000000000"


def _timestamps():
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def _window(table: str):
    return [
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "valid_from IS NULL OR valid_until IS NULL OR valid_from < valid_until", name=f"ck_{table}_window"
        ),
    ]


def upgrade() -> None:
    # btree_gist gives GiST the plain `=` on uuid that the exclusion constraint combines with range overlap.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")

    op.create_table(
        "pricing_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column(
            "scope_id",
            sa.Uuid(),
            sa.Computed(f"coalesce(project_id, '{NIL_UUID}'::uuid)", persisted=True),
            nullable=False,
        ),
        sa.Column("price_per_photo_cents", sa.Integer(), nullable=False),
        sa.Column("compare_at_price_cents", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        *_window("pricing_rules"),
        *_timestamps(),
        sa.CheckConstraint("price_per_photo_cents >= 0", name="ck_pricing_rules_price_per_photo_cents"),
        sa.CheckConstraint(
            "compare_at_price_cents IS NULL OR compare_at_price_cents > price_per_photo_cents",
            name="ck_pricing_rules_compare_at_price_cents",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pricing_rules"),
    )
    op.create_index("ix_pricing_rules_operator_id", "pricing_rules", ["operator_id"])
    op.create_index("ix_pricing_rules_project_id", "pricing_rules", ["project_id"])
    # NULL project = the operator default scope (scope_id is the nil uuid); [from, until) with NULL = unbounded.
    op.execute(
        "ALTER TABLE pricing_rules ADD CONSTRAINT ex_pricing_rules_active_window EXCLUDE USING gist "
        "(operator_id WITH =, scope_id WITH =, tstzrange(valid_from, valid_until, '[)') WITH &&) WHERE (is_active)"
    )

    op.create_table(
        "discounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("bundle_min_photos", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        *_window("discounts"),
        *_timestamps(),
        sa.CheckConstraint("type IN ('percentage', 'fixed', 'bundle')", name="ck_discounts_type"),
        sa.CheckConstraint(
            "(type = 'fixed' AND value >= 1) OR (type <> 'fixed' AND value BETWEEN 1 AND 100)",
            name="ck_discounts_value",
        ),
        sa.CheckConstraint(
            "(type = 'bundle' AND bundle_min_photos >= 2) OR (type <> 'bundle' AND bundle_min_photos IS NULL)",
            name="ck_discounts_bundle_min_photos",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_discounts"),
    )
    op.create_index("ix_discounts_operator_id", "discounts", ["operator_id"])

    op.create_table(
        "promo_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column(
            "discount_id",
            sa.Uuid(),
            sa.ForeignKey("discounts.id", ondelete="RESTRICT", name="fk_promo_codes_discount_id_discounts"),
            nullable=False,
        ),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("max_uses_per_user", sa.Integer(), nullable=True),
        sa.Column("times_used", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        *_window("promo_codes"),
        *_timestamps(),
        sa.CheckConstraint("code = upper(code)", name="ck_promo_codes_code_upper"),
        sa.CheckConstraint("max_uses IS NULL OR max_uses >= 1", name="ck_promo_codes_max_uses"),
        sa.CheckConstraint(
            "max_uses_per_user IS NULL OR max_uses_per_user >= 1", name="ck_promo_codes_max_uses_per_user"
        ),
        sa.CheckConstraint("times_used >= 0", name="ck_promo_codes_times_used"),
        sa.PrimaryKeyConstraint("id", name="pk_promo_codes"),
    )
    # Codes are stored upper-case: unique per operator ignoring case (also serves per-operator lookups).
    op.create_index("uq_promo_codes_operator_id_code", "promo_codes", ["operator_id", "code"], unique=True)
    op.create_index("ix_promo_codes_discount_id", "promo_codes", ["discount_id"])

    op.create_table(
        "project_discounts",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column(
            "discount_id",
            sa.Uuid(),
            sa.ForeignKey("discounts.id", ondelete="RESTRICT", name="fk_project_discounts_discount_id_discounts"),
            nullable=False,
        ),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "discount_id", name="pk_project_discounts"),
    )
    op.create_index("ix_project_discounts_discount_id", "project_discounts", ["discount_id"])
    op.create_index("ix_project_discounts_operator_id", "project_discounts", ["operator_id"])

    op.create_table(
        "promo_code_redemptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "promo_code_id",
            sa.Uuid(),
            sa.ForeignKey(
                "promo_codes.id", ondelete="CASCADE", name="fk_promo_code_redemptions_promo_code_id_promo_codes"
            ),
            nullable=False,
        ),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("purchase_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_promo_code_redemptions"),
    )
    op.create_index(
        "ix_promo_code_redemptions_promo_code_id_participant_id",
        "promo_code_redemptions",
        ["promo_code_id", "participant_id"],
    )

    op.create_table(
        "known_projects",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_known_projects"),
    )


def downgrade() -> None:
    op.drop_table("known_projects")
    op.drop_table("promo_code_redemptions")
    op.drop_table("project_discounts")
    op.drop_table("promo_codes")
    op.drop_table("discounts")
    op.drop_table("pricing_rules")
