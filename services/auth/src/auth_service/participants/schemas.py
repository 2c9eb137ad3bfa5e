from marshmallow import fields, validate

from backoffice_common.api import Email, Schema


class ParticipantCreateSchema(Schema):
    email = Email(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 200))


class ParticipantSchema(Schema):
    id = fields.UUID(dump_only=True)
    email = fields.String()
    name = fields.String()


class ParticipantLookupSchema(Schema):
    emails = fields.List(Email(), required=True, validate=validate.Length(max=20_000))


class ParticipantLookupResultSchema(Schema):
    registered = fields.List(fields.String())
