from marshmallow import ValidationError, fields, validate

from backoffice_common.api import Schema, UtcDateTime


class EmailList(fields.List):
    """1–500 emails, trimmed and lower-cased; any invalid one fails the whole list, naming each (design §5)."""

    def __init__(self, **kwargs):
        super().__init__(fields.String(), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        emails = [
            item.strip().lower() if isinstance(item, str) else item
            for item in super()._deserialize(value, attr, data, **kwargs)
        ]
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
