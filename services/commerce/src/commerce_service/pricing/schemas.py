from marshmallow import fields

from backoffice_common.api import Schema, UtcDateTime
from commerce_service.purchases.schemas import CheckoutRequestSchema
from commerce_service.schemas import Bool, Cents


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


class QuoteRequestSchema(CheckoutRequestSchema):
    """A checkout's body: the quote refuses what checkout refuses, the photo list included."""


class QuoteSchema(Schema):
    price_per_photo_cents = fields.Integer()
    subtotal_cents = fields.Integer()
    discount_applied_cents = fields.Integer()
    total_cents = fields.Integer()
    applied_promo_code = fields.String(allow_none=True)
