import marshmallow as ma
from marshmallow import ValidationError, fields, validate

from backoffice_common.api import Email, Schema, UtcDateTime
from commerce_service.models import PURCHASE_STATUSES

REFUND_REASONS = ("requested_by_customer", "duplicate", "fraudulent")

MAX_PHOTOS_PER_CHECKOUT = 500


def _unique(values: list) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("Must not repeat a photo.")


class ParticipantRefSchema(Schema):
    id = fields.UUID(required=True)
    email = Email(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 200))


class CheckoutRequestSchema(Schema):
    """A checkout's body (and the quote's, which refuses what checkout refuses, the photo list included)."""

    project_id = fields.UUID(required=True)
    participant = fields.Nested(ParticipantRefSchema, required=True)
    photo_ids = fields.List(
        fields.UUID(), required=True, validate=[validate.Length(1, MAX_PHOTOS_PER_CHECKOUT), _unique]
    )
    # Any text: an unknown or unusable code is ignored, not refused.
    promo_code = fields.String(allow_none=True, validate=validate.Length(max=200))


def _printable_ascii(value: str) -> None:
    if not all(" " <= c <= "~" for c in value):
        raise ValidationError("Must be printable ASCII characters.")


class CheckoutHeadersSchema(ma.Schema):
    """Checkout's request headers: an optional ``Idempotency-Key`` (any other header is not ours to refuse)."""

    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = fields.String(data_key="Idempotency-Key", validate=[validate.Length(1, 255), _printable_ascii])


class Itself(fields.Nested):
    """A nested object made of the parent's own attributes (a purchase's project is its project_id and name)."""

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return obj


class ProjectNameSchema(Schema):
    id = fields.UUID(attribute="project_id")
    name = fields.String(attribute="project_name")


class BuyerSchema(Schema):
    id = fields.UUID(attribute="participant_id")
    email = fields.String(attribute="participant_email")
    name = fields.String(attribute="participant_name")


class PurchaseSchema(Schema):
    """A purchase (a model, or a row of the list) whose ``project_name`` is its project's current name."""

    id = fields.UUID()
    status = fields.String()
    photo_count = fields.Integer()
    subtotal_cents = fields.Integer()
    discount_applied_cents = fields.Integer()
    total_cents = fields.Integer()
    applied_promo_code = fields.String(allow_none=True)
    stripe_payment_intent_id = fields.String(allow_none=True)
    created_at = UtcDateTime()
    project = Itself(ProjectNameSchema)
    user = Itself(BuyerSchema)


class PhotoIdItself(fields.UUID):
    """A download is a bought photo's id: the dumped object is the id itself."""

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return obj


class DownloadSchema(Schema):
    photo_id = PhotoIdItself()


class PurchaseDetailSchema(PurchaseSchema):
    downloads = fields.List(fields.Nested(DownloadSchema))


class RefundRequestSchema(Schema):
    """A refund's optional body: why, as Stripe records it."""

    reason = fields.String(validate=validate.OneOf(REFUND_REASONS))


class RefundedPurchaseSchema(PurchaseDetailSchema):
    refunded_at = UtcDateTime()


class CheckoutSchema(PurchaseDetailSchema):
    client_secret = fields.String(allow_none=True)


class PurchaseQueryArgsSchema(Schema):
    project_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(PURCHASE_STATUSES))
    # Any page ≥ 1 (past the end: no items); the bound only keeps the SQL offset inside a bigint.
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**15))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 100))


class PurchaseExportArgsSchema(Schema):
    """The export's filters: the list's, and a window on createdAt (inclusive; an offset is required)."""

    project_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(PURCHASE_STATUSES))
    from_ = UtcDateTime(data_key="from")
    to = UtcDateTime()


class PurchasePageSchema(Schema):
    items = fields.List(fields.Nested(PurchaseSchema))
    total = fields.Integer()
    page = fields.Integer()
    limit = fields.Integer()


class OperatorPurchasesSchema(Schema):
    """Whether commerce holds any purchase of the operator (auth asks before letting its currency change)."""

    has_purchases = fields.Boolean()
