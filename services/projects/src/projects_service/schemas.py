from backoffice_common.api import Email, Schema, UtcDateTime
from backoffice_common.validators import iana_timezone
from marshmallow import ValidationError, fields, validate, validates_schema

from projects_service.models import PROJECT_STATUSES, PROJECT_TYPES
from projects_service.services.photos import ALLOWED_CONTENT_TYPES, MAX_PHOTO_BYTES
from projects_service.services.qr_codes import PNG_DEFAULT_SIZE, PNG_SIZES


class RosterEntrySchema(Schema):
    """What auth sends when a photographer account is created or changed."""

    operator_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=validate.Length(1, 200))
    email = Email(required=True)


class RosterEntryOutSchema(RosterEntrySchema):
    id = fields.UUID(dump_only=True)


def _ordered_dates(data: dict) -> None:
    if data.get("start_at") and data.get("end_at") and data["start_at"] > data["end_at"]:
        raise ValidationError("Must not be before startAt.", "endAt")


class ProjectFieldsSchema(Schema):
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


class ProjectCreateSchema(ProjectFieldsSchema):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    status = fields.String(validate=validate.OneOf(("draft", "live")))


class ProjectStatusSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(PROJECT_STATUSES))


class ProjectListArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(PROJECT_STATUSES))


class QrPngArgsSchema(Schema):
    size = fields.Integer(load_default=PNG_DEFAULT_SIZE, validate=validate.Range(*PNG_SIZES),
                          metadata={"description": "Width and height in pixels."})


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


class PhotoUploadSchema(Schema):
    filename = fields.String(required=True, validate=validate.Length(1, 255))
    content_type = fields.String(required=True, validate=validate.OneOf(
        sorted(ALLOWED_CONTENT_TYPES), error="Must be one of the image types: {choices}."))
    size_bytes = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_PHOTO_BYTES))


class PhotoUploadOutSchema(Schema):
    id = fields.UUID()
    upload_url = fields.String()
    expires_at = UtcDateTime()


class PhotoStatusSchema(Schema):
    id = fields.UUID()
    status = fields.String()


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


class EmailList(fields.List):
    """1–500 emails, trimmed and lower-cased; any invalid one fails the whole list, naming each (design §5)."""

    def __init__(self, **kwargs):
        super().__init__(fields.String(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        emails = [item.strip().lower() if isinstance(item, str) else item
                  for item in super()._deserialize(value, attr, data, **kwargs)]
        if not 1 <= len(emails) <= 500:
            raise ValidationError(f"Send between 1 and 500 emails (got {len(emails)}).")
        is_email = validate.Email()
        invalid = []
        for email in emails:
            try:
                is_email(email)
            except ValidationError:
                invalid.append(email)
        if invalid:
            raise ValidationError(f"Not valid email addresses: {', '.join(invalid)}")
        return emails


class BulkInviteSchema(Schema):
    emails = EmailList(required=True)


class BulkInviteResultSchema(Schema):
    queued = fields.Integer()
    skipped = fields.Integer()


class InviteSchema(Schema):
    id = fields.UUID()
    email = fields.String()
    registration_status = fields.String()
    created_at = UtcDateTime()
    expires_at = UtcDateTime()


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


class AnalyticsQuerySchema(Schema):
    """The analytics service's question (design §7): no ``projectIds`` means every non-archived project."""

    operator_id = fields.UUID(required=True)
    project_ids = fields.List(fields.UUID(), allow_none=True, load_default=None, validate=validate.Length(max=10_000))
    photographer_ids = fields.List(fields.UUID(), allow_none=True, load_default=None,
                                   validate=validate.Length(max=10_000))


class PhotographerPhotosSchema(Schema):
    photographer_id = fields.UUID(allow_none=True)  # null: photographers since removed from the roster
    name = fields.String()
    photo_count = fields.Integer()


class ProjectStatsSchema(Schema):
    projects = fields.List(fields.Nested(ProjectRefSchema))
    members_enrolled = fields.Integer()
    invited = fields.Integer()
    photos_uploaded = fields.Integer()
    users_tagged = fields.Integer()
    photos_by_photographer = fields.List(fields.Nested(PhotographerPhotosSchema))
