from marshmallow import ValidationError, fields, validate

from backoffice_common.api import Schema, UtcDateTime
from commerce_service.schemas import Bool, Int

MAX_USES = 100_000_000


def _code(value: str) -> None:
    if not (3 <= len(value) <= 32) or not all(c.isascii() and (c.isalnum() or c in "_-") for c in value):
        raise ValidationError("Must be 3–32 characters of A–Z, 0–9, _ and -.")


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
