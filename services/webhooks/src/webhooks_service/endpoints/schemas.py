from marshmallow import ValidationError, fields, validate

from backoffice_common.api import Schema, UtcDateTime
from webhooks_service.models import EVENT_TYPES

URL_MAX = 2048


def _unique(values: list) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("Must not repeat an event.")


def Events(**kwargs):  # noqa: N802 — a field factory, read like a field class
    """One or more of the event types, each once."""
    return fields.List(
        fields.String(validate=validate.OneOf(EVENT_TYPES)),
        validate=[validate.Length(min=1, error="Must name at least one event."), _unique],
        **kwargs,
    )


class EndpointSchema(Schema):
    """An endpoint as lists show it: never its secret."""

    id = fields.UUID(dump_only=True)
    url = fields.String()
    events = fields.List(fields.String())
    description = fields.String(allow_none=True)
    is_active = fields.Boolean()
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class CreatedEndpointSchema(EndpointSchema):
    """The create answer: the one time the signing secret is shown."""

    secret = fields.String()


class EndpointUpdateSchema(Schema):
    url = fields.String(validate=validate.Length(1, URL_MAX))
    events = Events()
    description = fields.String(allow_none=True, validate=validate.Length(max=500))
    is_active = fields.Boolean(truthy={True}, falsy={False})


class EndpointCreateSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(1, URL_MAX))
    events = Events(required=True)
    description = fields.String(allow_none=True, validate=validate.Length(max=500))


class DeliveryQueryArgsSchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 100))


class DeliverySchema(Schema):
    """One attempt at delivering an event to the endpoint (or a delivery waiting for its first: ``attempt`` 0)."""

    event_id = fields.String()
    type = fields.String()
    attempt = fields.Integer()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = UtcDateTime()
    next_attempt_at = UtcDateTime(allow_none=True)
    succeeded_at = UtcDateTime(allow_none=True)
