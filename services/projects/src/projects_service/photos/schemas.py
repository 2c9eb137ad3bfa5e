from marshmallow import fields, validate

from backoffice_common.api import Schema, UtcDateTime
from projects_service.photos.rules import ALLOWED_CONTENT_TYPES, MAX_PHOTO_BYTES


class PhotoUploadSchema(Schema):
    filename = fields.String(required=True, validate=validate.Length(1, 255))
    content_type = fields.String(
        required=True,
        validate=validate.OneOf(sorted(ALLOWED_CONTENT_TYPES), error="Must be one of the image types: {choices}."),
    )
    size_bytes = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_PHOTO_BYTES))


class PhotoUploadOutSchema(Schema):
    id = fields.UUID()
    upload_url = fields.String()
    expires_at = UtcDateTime()


class PhotoStatusSchema(Schema):
    id = fields.UUID()
    status = fields.String()
