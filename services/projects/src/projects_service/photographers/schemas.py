from marshmallow import fields, validate

from backoffice_common.api import Email, Schema, UtcDateTime
from projects_service.projects.schemas import ProjectRefSchema


class RosterEntrySchema(Schema):
    """What auth sends when a photographer account is created or changed."""

    operator_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    email = Email(required=True)


class RosterEntryOutSchema(RosterEntrySchema):
    id = fields.UUID(dump_only=True)


class PhotographerSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    email = fields.String()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    projects = fields.List(fields.Nested(ProjectRefSchema))


class PhotographerUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(1, 200))
    email = Email()
