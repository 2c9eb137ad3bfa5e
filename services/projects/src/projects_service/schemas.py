from backoffice_common.api import Email, Schema
from marshmallow import fields, validate


class RosterEntrySchema(Schema):
    """What auth sends when a photographer account is created or changed."""

    operator_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    email = Email(required=True)


class RosterEntryOutSchema(RosterEntrySchema):
    id = fields.UUID(dump_only=True)
