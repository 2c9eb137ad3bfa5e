import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    String,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, ExcludeConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backoffice_common.models import Timestamps, naming_metadata
from backoffice_common.outbox import OutboxColumns

# The scope key of an operator default rule: a NULL project is one scope, not "distinct from everything".
DEFAULT_SCOPE = uuid.UUID(int=0)
DISCOUNT_TYPES = ("percentage", "fixed", "bundle")
PURCHASE_STATUSES = ("pending", "paid", "failed", "refunded")


class Base(DeclarativeBase):
    metadata = naming_metadata()
    # Server-side defaults (timestamps, generated columns) come back with the INSERT/UPDATE itself.
    __mapper_args__ = {"eager_defaults": True}


class Window:
    """A validity window: ``valid_from`` inclusive, ``valid_until`` exclusive, NULL = unbounded."""

    valid_from: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class PricingRule(Window, Timestamps, Base):
    """A price per photo: the operator's default (no project) or one project's override."""

    __tablename__ = "pricing_rules"
    __table_args__ = (
        CheckConstraint("price_per_photo_cents >= 0", name="price_per_photo_cents"),
        CheckConstraint(
            "compare_at_price_cents IS NULL OR compare_at_price_cents > price_per_photo_cents",
            name="compare_at_price_cents",
        ),
        CheckConstraint("valid_from IS NULL OR valid_until IS NULL OR valid_from < valid_until", name="window"),
        # Two active rules of one scope may not overlap in time — decided by the database, so races can't slip by.
        ExcludeConstraint(
            ("operator_id", "="),
            ("scope_id", "="),
            (text("tstzrange(valid_from, valid_until, '[)')"), "&&"),
            name="ex_pricing_rules_active_window",
            using="gist",
            where=text("is_active"),
        ),
        Index("ix_pricing_rules_project_id", "project_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    operator_id: Mapped[uuid.UUID] = mapped_column(index=True)
    project_id: Mapped[uuid.UUID | None]
    scope_id: Mapped[uuid.UUID] = mapped_column(Computed(f"coalesce(project_id, '{DEFAULT_SCOPE}'::uuid)"))
    price_per_photo_cents: Mapped[int] = mapped_column(Integer)
    compare_at_price_cents: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class Discount(Window, Timestamps, Base):
    __tablename__ = "discounts"
    __table_args__ = (
        CheckConstraint("type IN ('percentage', 'fixed', 'bundle')", name="type"),
        CheckConstraint(
            "(type = 'fixed' AND value >= 1) OR (type <> 'fixed' AND value BETWEEN 1 AND 100)", name="value"
        ),
        CheckConstraint(
            "(type = 'bundle' AND bundle_min_photos >= 2) OR (type <> 'bundle' AND bundle_min_photos IS NULL)",
            name="bundle_min_photos",
        ),
        CheckConstraint("valid_from IS NULL OR valid_until IS NULL OR valid_from < valid_until", name="window"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    operator_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    # Percentage points for percentage and bundle, cents for fixed.
    value: Mapped[int] = mapped_column(Integer)
    bundle_min_photos: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class PromoCode(Window, Timestamps, Base):
    __tablename__ = "promo_codes"
    __table_args__ = (
        # Codes are stored upper-case, so this is "unique per operator ignoring case".
        Index("uq_promo_codes_operator_id_code", "operator_id", "code", unique=True),
        CheckConstraint("code = upper(code)", name="code_upper"),
        CheckConstraint("max_uses IS NULL OR max_uses >= 1", name="max_uses"),
        CheckConstraint("max_uses_per_user IS NULL OR max_uses_per_user >= 1", name="max_uses_per_user"),
        CheckConstraint("times_used >= 0", name="times_used"),
        CheckConstraint("valid_from IS NULL OR valid_until IS NULL OR valid_from < valid_until", name="window"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    operator_id: Mapped[uuid.UUID]
    code: Mapped[str] = mapped_column(String(32))
    # RESTRICT: a discount in use by a promo code cannot be deleted (design §6).
    discount_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("discounts.id", ondelete="RESTRICT"), index=True)
    max_uses: Mapped[int | None] = mapped_column(Integer)
    max_uses_per_user: Mapped[int | None] = mapped_column(Integer)
    times_used: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class ProjectDiscount(Base):
    """A discount offered on one project."""

    __tablename__ = "project_discounts"

    project_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    discount_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("discounts.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    operator_id: Mapped[uuid.UUID] = mapped_column(index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PromoCodeRedemption(Base):
    """One use of a promo code by a participant (written by checkout; counted for ``maxUsesPerUser``)."""

    __tablename__ = "promo_code_redemptions"
    __table_args__ = (
        Index("ix_promo_code_redemptions_promo_code_id_participant_id", "promo_code_id", "participant_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    promo_code_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("promo_codes.id", ondelete="CASCADE"))
    participant_id: Mapped[uuid.UUID]
    purchase_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("purchases.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class KnownProject(Base):
    """Projects commerce holds rows for, and which of them were deleted.

    Ownership comes from the projects service through a short cache; a write for a
    project first upserts its row here (taking its lock), and the deletion call
    marks it, so a stale cache entry can never recreate rows for a deleted project.
    """

    __tablename__ = "known_projects"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxMessage(OutboxColumns, Base):
    """Work that must happen after a commit (webhook events, for now), drained by the worker with retries."""

    __tablename__ = "outbox"


class Purchase(Timestamps, Base):
    """A participant's order of photos of one project, and where its payment stands (design §6)."""

    __tablename__ = "purchases"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'paid', 'failed', 'refunded')", name="status"),
        CheckConstraint("photo_count >= 1", name="photo_count"),
        CheckConstraint(
            "subtotal_cents >= 0 AND discount_applied_cents >= 0 "
            "AND total_cents = subtotal_cents - discount_applied_cents AND total_cents >= 0",
            name="amounts",
        ),
        CheckConstraint("status <> 'paid' OR paid_at IS NOT NULL", name="paid_at"),
        # The operator's list: newest first, with a stable order among equal timestamps.
        Index("ix_purchases_operator_id_created_at_id", "operator_id", text("created_at DESC"), text("id DESC")),
        Index("ix_purchases_operator_id_project_id", "operator_id", "project_id"),
        # Paid purchases over time (analytics), by project; the total rides along for the revenue.
        Index(
            "ix_purchases_operator_id_project_id_paid_at",
            "operator_id",
            "project_id",
            "paid_at",
            postgresql_include=["total_cents"],
            postgresql_where=text("status = 'paid'"),
        ),
        # The worker's sweep of stale pending purchases, oldest first (services/expiry.py).
        Index("ix_purchases_pending_created_at", "created_at", postgresql_where=text("status = 'pending'")),
        # A checkout's Idempotency-Key names one purchase of the participant (the race of two first tries too).
        Index(
            "uq_purchases_participant_id_idempotency_key",
            "participant_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    operator_id: Mapped[uuid.UUID]
    project_id: Mapped[uuid.UUID]
    # The name the purchase was made under: shown once the project is deleted (design §4).
    project_name: Mapped[str] = mapped_column(String(200))
    participant_id: Mapped[uuid.UUID]
    participant_email: Mapped[str] = mapped_column(String(320))
    participant_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    photo_count: Mapped[int] = mapped_column(Integer)
    price_per_photo_cents: Mapped[int] = mapped_column(Integer)
    subtotal_cents: Mapped[int] = mapped_column(Integer)
    discount_applied_cents: Mapped[int] = mapped_column(Integer)
    total_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    applied_promo_code: Mapped[str | None] = mapped_column(String(32))
    promo_code_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("promo_codes.id", ondelete="SET NULL"), index=True
    )
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The checkout's Idempotency-Key, if it sent one (released when the payment could not even start), and the
    # promo code it asked for, normalised — with the project and the photos, what makes a repeat the same request.
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    requested_promo_code: Mapped[str | None] = mapped_column(String(200))
    # When it became refunded: by the operator (design §10), or by Stripe's charge.refunded.
    refunded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # When it became paid (kept after a refund): written by the database (trigger ``paid_at``, migration 0009)
    # whichever path pays it — checkout's free purchase, the webhook, the sweeper.
    paid_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=FetchedValue(), server_onupdate=FetchedValue()
    )


class PurchaseItem(Base):
    """One photo of a purchase: who took it, and their share of the purchase's total."""

    __tablename__ = "purchase_items"
    __table_args__ = (
        CheckConstraint("share_cents >= 0", name="share_cents"),
        Index("ix_purchase_items_photographer_id", "photographer_id"),
    )

    purchase_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchases.id", ondelete="CASCADE"), primary_key=True)
    photo_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    photographer_id: Mapped[uuid.UUID]
    share_cents: Mapped[int] = mapped_column(Integer)


class StripeEvent(Base):
    """Webhook events already handled, by Stripe's event id (deliveries repeat; each counts once)."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# Rollups (migration 0006): running totals that triggers keep current in the same transaction as the
# purchases they count, and that `rollups_rebuild()` recounts. Python only reads them.


class PurchaseCounts(Base):
    """Purchases and their totals per operator, project and status."""

    __tablename__ = "purchase_counts"

    operator_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    purchases: Mapped[int] = mapped_column(Integer, server_default="0")
    total_cents: Mapped[int] = mapped_column(BigInteger, server_default="0")


class PaidSales(Base):
    """Paid purchases per project and the set of photographers whose photos they hold."""

    __tablename__ = "paid_sales"

    operator_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    photographers: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), primary_key=True)
    purchases: Mapped[int] = mapped_column(Integer, server_default="0")


class PhotographerSales(Base):
    """A photographer's shares of paid purchases, per project."""

    __tablename__ = "photographer_sales"

    operator_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    photographer_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    share_cents: Mapped[int] = mapped_column(BigInteger, server_default="0")


class BuyerProjects(Base):
    """Paid purchases per buyer and project."""

    __tablename__ = "buyer_projects"

    operator_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    participant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    purchases: Mapped[int] = mapped_column(Integer, server_default="0")


class BuyerPhotographers(Base):
    """Paid purchases per buyer, project and photographer whose photos they hold."""

    __tablename__ = "buyer_photographers"
    __table_args__ = (
        # Narrowed to photographers, analytics reads each one's buyers in buyer order (migration 0010).
        Index(
            "ix_buyer_photographers_photographer_participant",
            "operator_id",
            "photographer_id",
            "participant_id",
            postgresql_include=["project_id"],
            postgresql_where=text("purchases > 0"),
        ),
    )

    operator_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    photographer_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    participant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    purchases: Mapped[int] = mapped_column(Integer, server_default="0")


class Buyers(Base):
    """In how many of the operator's projects a buyer has a paid purchase."""

    __tablename__ = "buyers"

    operator_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    participant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    projects: Mapped[int] = mapped_column(Integer, server_default="0")


class OperatorSales(Base):
    """The operator's distinct buyers over all their projects."""

    __tablename__ = "operator_sales"

    operator_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    buyers: Mapped[int] = mapped_column(Integer, server_default="0")
