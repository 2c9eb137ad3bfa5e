from marshmallow import fields, validate

from backoffice_common.api import Email, Schema


class PhotographerSchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.String()
    email = fields.String()


class PhotographerUpdateSchema(Schema):
    """A photographer's name or email changed from the projects service's roster."""

    name = fields.String(validate=validate.Length(1, 200))
    email = Email()
