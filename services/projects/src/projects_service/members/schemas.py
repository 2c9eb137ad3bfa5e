from marshmallow import fields, validate

from backoffice_common.api import Email, Schema, UtcDateTime


class JoinSchema(Schema):
    participant_id = fields.UUID(required=True)
    email = Email(required=True)
    invite_token = fields.String(allow_none=True, validate=validate.Length(max=200))


class MemberSchema(Schema):
    project_id = fields.UUID()
    participant_id = fields.UUID()
    joined_at = UtcDateTime()


class TagSchema(Schema):
    participant_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(max=1000))
