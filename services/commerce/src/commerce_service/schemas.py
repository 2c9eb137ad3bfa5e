from backoffice_common.api import Email, Schema, UtcDateTime
import marshmallow as ma
from marshmallow import ValidationError, fields, validate

from commerce_service.models import DISCOUNT_TYPES, PURCHASE_STATUSES

MAX_CENTS = 100_000_000  # one million in the currency's main unit: a bound, so sums stay far from overflow
MAX_USES = 100_000_000


class Int(fields.Integer):
    """A JSON integer only: no strings, floats or booleans."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


def Bool(**kwargs):  # noqa: N802 — a field factory, read like a field class
    """JSON true or false only (not "yes", 1 or "on")."""
    return fields.Boolean(truthy={True}, falsy={False}, **kwargs)


def Cents(minimum: int = 0, **kwargs):  # noqa: N802
    return Int(validate=validate.Range(minimum, MAX_CENTS), **kwargs)


def _code(value: str) -> None:
    if not (3 <= len(value) <= 32) or not all(c.isascii() and (c.isalnum() or c in "_-") for c in value):
        raise ValidationError("Must be 3–32 characters of A–Z, 0–9, _ and -.")


# --- pricing rules -----------------------------------------------------------------------------------------------

class PricingRuleSchema(Schema):
    id = fields.UUID(dump_only=True)
    project_id = fields.UUID(allow_none=True)
    price_per_photo_cents = fields.Integer()
    compare_at_price_cents = fields.Integer(allow_none=True)
    valid_from = UtcDateTime(allow_none=True)
    valid_until = UtcDateTime(allow_none=True)
    is_active = fields.Boolean()
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class PricingRuleUpdateSchema(Schema):
    price_per_photo_cents = Cents()
    compare_at_price_cents = Cents(1, allow_none=True)
    valid_from = UtcDateTime(allow_none=True)
    valid_until = UtcDateTime(allow_none=True)
    is_active = Bool()


class PricingRuleCreateSchema(PricingRuleUpdateSchema):
    project_id = fields.UUID(allow_none=True)
    price_per_photo_cents = Cents(required=True)


# --- discounts ---------------------------------------------------------------------------------------------------

class DiscountSchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.String()
    type = fields.String()
    value = fields.Integer()
    bundle_min_photos = fields.Integer(allow_none=True)
    valid_from = UtcDateTime(allow_none=True)
    valid_until = UtcDateTime(allow_none=True)
    is_active = fields.Boolean()
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class DiscountUpdateSchema(Schema):
    """Type, value and bundle size are fixed once created (sending them is an unknown field, 422)."""

    name = fields.String(validate=validate.Length(1, 200))
    valid_from = UtcDateTime(allow_none=True)
    valid_until = UtcDateTime(allow_none=True)
    is_active = Bool()


class DiscountCreateSchema(DiscountUpdateSchema):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    type = fields.String(required=True, validate=validate.OneOf(DISCOUNT_TYPES))
    value = Cents(1, required=True)
    bundle_min_photos = Int(allow_none=True)  # required for bundle, ignored otherwise: checked by the rules


class DiscountLinkSchema(Schema):
    discount_id = fields.UUID(required=True)


# --- promo codes -------------------------------------------------------------------------------------------------

class PromoCodeSchema(Schema):
    id = fields.UUID(dump_only=True)
    code = fields.String()
    discount_id = fields.UUID()
    max_uses = fields.Integer(allow_none=True)
    max_uses_per_user = fields.Integer(allow_none=True)
    times_used = fields.Integer()
    valid_from = UtcDateTime(allow_none=True)
    valid_until = UtcDateTime(allow_none=True)
    is_active = fields.Boolean()
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class PromoCodeUpdateSchema(Schema):
    max_uses = Int(allow_none=True, validate=validate.Range(1, MAX_USES))
    max_uses_per_user = Int(allow_none=True, validate=validate.Range(1, MAX_USES))
    valid_from = UtcDateTime(allow_none=True)
    valid_until = UtcDateTime(allow_none=True)
    is_active = Bool()


class PromoCodeCreateSchema(PromoCodeUpdateSchema):
    code = fields.String(required=True, validate=_code)
    discount_id = fields.UUID(required=True)


# --- checkout quote (design §9) ----------------------------------------------------------------------------------

MAX_PHOTOS_PER_CHECKOUT = 500


def _unique(values: list) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("Must not repeat a photo.")


class ParticipantRefSchema(Schema):
    id = fields.UUID(required=True)
    email = Email(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 200))


class QuoteRequestSchema(Schema):
    """A checkout's body, and the quote's: the quote refuses what checkout refuses, the photo list included."""

    project_id = fields.UUID(required=True)
    participant = fields.Nested(ParticipantRefSchema, required=True)
    photo_ids = fields.List(fields.UUID(), required=True,
                            validate=[validate.Length(1, MAX_PHOTOS_PER_CHECKOUT), _unique])
    # Any text: an unknown or unusable code is ignored, not refused.
    promo_code = fields.String(allow_none=True, validate=validate.Length(max=200))


class QuoteSchema(Schema):
    price_per_photo_cents = fields.Integer()
    subtotal_cents = fields.Integer()
    discount_applied_cents = fields.Integer()
    total_cents = fields.Integer()
    applied_promo_code = fields.String(allow_none=True)


# --- checkout and purchases --------------------------------------------------------------------------------------

def _printable_ascii(value: str) -> None:
    if not all(" " <= c <= "~" for c in value):
        raise ValidationError("Must be printable ASCII characters.")


class CheckoutHeadersSchema(ma.Schema):
    """Checkout's request headers: an optional ``Idempotency-Key`` (any other header is not ours to refuse)."""

    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = fields.String(data_key="Idempotency-Key",
                                    validate=[validate.Length(1, 255), _printable_ascii])


class CheckoutRequestSchema(QuoteRequestSchema):
    pass


class ProjectNameSchema(Schema):
    id = fields.UUID()
    name = fields.String()


class BuyerSchema(Schema):
    id = fields.UUID()
    email = fields.String()
    name = fields.String()


class PurchaseSchema(Schema):
    id = fields.UUID()
    status = fields.String()
    photo_count = fields.Integer()
    subtotal_cents = fields.Integer()
    discount_applied_cents = fields.Integer()
    total_cents = fields.Integer()
    applied_promo_code = fields.String(allow_none=True)
    stripe_payment_intent_id = fields.String(allow_none=True)
    created_at = UtcDateTime()
    project = fields.Nested(ProjectNameSchema)
    user = fields.Nested(BuyerSchema)


class DownloadSchema(Schema):
    photo_id = fields.UUID()


class PurchaseDetailSchema(PurchaseSchema):
    downloads = fields.List(fields.Nested(DownloadSchema))


class CheckoutSchema(PurchaseDetailSchema):
    client_secret = fields.String(allow_none=True)


class PurchaseQueryArgsSchema(Schema):
    project_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(PURCHASE_STATUSES))
    # Any page ≥ 1 (past the end: no items); the bound only keeps the SQL offset inside a bigint.
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10**15))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 100))


class PurchasePageSchema(Schema):
    items = fields.List(fields.Nested(PurchaseSchema))
    total = fields.Integer()
    page = fields.Integer()
    limit = fields.Integer()


# --- figures for analytics ---------------------------------------------------------------------------------------

class StatsRequestSchema(Schema):
    operator_id = fields.UUID(required=True)
    # Every project of the operator's scope, as projects listed it (no smaller cap than projects has).
    project_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(max=100_000))
    photographer_ids = fields.List(fields.UUID(), allow_none=True, load_default=None,
                                   validate=validate.Length(max=10_000))


class ProjectFiguresSchema(Schema):
    project_id = fields.UUID()
    purchases_made = fields.Integer()
    revenue_in_cents = fields.Integer()


class StatsSchema(Schema):
    purchases_made = fields.Integer()
    revenue_in_cents = fields.Integer()
    buyers = fields.Integer()
    projects = fields.List(fields.Nested(ProjectFiguresSchema))


class OperatorPurchasesSchema(Schema):
    """Whether commerce holds any purchase of the operator (auth asks before letting its currency change)."""

    has_purchases = fields.Boolean()
