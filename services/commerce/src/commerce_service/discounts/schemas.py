from marshmallow import fields, validate

from backoffice_common.api import Schema, UtcDateTime
from commerce_service.models import DISCOUNT_TYPES
from commerce_service.schemas import Bool, Cents, Int


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
