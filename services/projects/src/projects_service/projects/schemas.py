from marshmallow import ValidationError, fields, validate, validates_schema

from backoffice_common.api import Schema, UtcDateTime
from backoffice_common.validators import iana_timezone
from projects_service.models import PROJECT_STATUSES, PROJECT_TYPES
from projects_service.projects.qr_codes import PNG_DEFAULT_SIZE, PNG_SIZES


def _ordered_dates(data: dict) -> None:
    if data.get("start_at") and data.get("end_at") and data["start_at"] > data["end_at"]:
        raise ValidationError("Must not be before startAt.", "endAt")


class ProjectUpdateSchema(Schema):
    """The editable fields of a project (PATCH takes all of them, none required)."""

    name = fields.String(validate=validate.Length(1, 200))
    type = fields.String(validate=validate.OneOf(PROJECT_TYPES))
    location_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    start_at = UtcDateTime(allow_none=True)
    end_at = UtcDateTime(allow_none=True)
    project_link = fields.Url(allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=2048))
    terms_and_conditions = fields.String(allow_none=True, validate=validate.Length(max=20_000))
    timezone = fields.String(allow_none=True, validate=iana_timezone)

    @validates_schema
    def _dates(self, data, **_kwargs):
        _ordered_dates(data)


class ProjectCreateSchema(ProjectUpdateSchema):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    status = fields.String(validate=validate.OneOf(("draft", "live")))


class ProjectStatusSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(PROJECT_STATUSES))


class ProjectQueryArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(PROJECT_STATUSES))


class QrPngArgsSchema(Schema):
    size = fields.Integer(
        load_default=PNG_DEFAULT_SIZE,
        validate=validate.Range(*PNG_SIZES),
        metadata={"description": "Width and height in pixels."},
    )


class ProjectSummarySchema(Schema):
    id = fields.UUID()
    name = fields.String()
    type = fields.String()
    status = fields.String()
    location_name = fields.String(allow_none=True)
    start_at = UtcDateTime(allow_none=True)
    end_at = UtcDateTime(allow_none=True)
    timezone = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    photographer_count = fields.Integer()
    member_count = fields.Integer()
    photo_count = fields.Integer()


class PhotographerRefSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    email = fields.String()


class ProjectDetailSchema(ProjectSummarySchema):
    project_link = fields.String(allow_none=True)
    terms_and_conditions = fields.String(allow_none=True)
    photographers = fields.List(fields.Nested(PhotographerRefSchema))
    join_url = fields.String(allow_none=True)


class AssignmentSchema(Schema):
    photographer_id = fields.UUID(required=True)


class ProjectRefSchema(Schema):
    id = fields.UUID()
    name = fields.String()


class InternalProjectSchema(Schema):
    id = fields.UUID()
    operator_id = fields.UUID()
    name = fields.String()
    status = fields.String()
    type = fields.String()


class CheckoutLookupSchema(Schema):
    participant_id = fields.UUID(required=True)
    photo_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(1, 10_000))


class CheckoutPhotoSchema(Schema):
    id = fields.UUID()
    photographer_id = fields.UUID()


class CheckoutLookupResultSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    status = fields.String()
    operator_id = fields.UUID()
    member = fields.Boolean()
    photos = fields.List(fields.Nested(CheckoutPhotoSchema))


class ProjectLookupSchema(Schema):
    ids = fields.List(fields.UUID(), required=True, validate=validate.Length(max=1000))


class ProjectLookupResultSchema(Schema):
    projects = fields.List(fields.Nested(ProjectRefSchema))
