from marshmallow import fields, validate

from backoffice_common.api import Schema, UtcDateTime
from webhooks_service.models import EVENT_TYPES


class EventSchema(Schema):
    """An event as a producer hands it in (backoffice_common.webhook_events)."""

    id = fields.String(required=True, validate=validate.Regexp(r"^evt_[A-Za-z0-9]{8,60}$"))
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    operator_id = fields.UUID(required=True)
    created_at = UtcDateTime(required=True)
    data = fields.Dict(required=True)


class IntakeSchema(Schema):
    id = fields.String()
    deliveries = fields.Integer()
