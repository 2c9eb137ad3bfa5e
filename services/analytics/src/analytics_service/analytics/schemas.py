import uuid

from backoffice_common.api import Schema
from marshmallow import ValidationError, fields

REPEATED = "Give this parameter once, with comma-separated UUIDs."


class UuidList(fields.Field):
    """A query parameter of comma-separated UUIDs (``?projectIds=a,b``); malformed → 422 naming the value.

    Given more than once (``?projectIds=a&projectIds=b``) → 422: webargs would otherwise pass on the first value
    alone, and the answer would silently leave out what the caller meant to include.
    """

    is_multiple = True  # webargs hands over every value given, so a repeat can be refused

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list):
            if len(value) != 1:
                raise ValidationError(REPEATED)
            value = value[0]
        if not isinstance(value, str):
            raise ValidationError("Must be comma-separated UUIDs.")
        ids, bad = [], []
        for part in (part.strip() for part in value.split(",")):
            if not part:
                continue
            try:
                ids.append(uuid.UUID(part))
            except ValueError:
                bad.append(part)
        if bad:
            raise ValidationError(f"Not UUIDs: {', '.join(bad[:10])}.")
        if len(ids) > 1000:
            raise ValidationError("At most 1000 ids.")
        return list(dict.fromkeys(ids)) or None  # an empty parameter filters nothing, like an absent one


class AnalyticsQueryArgsSchema(Schema):
    project_ids = UuidList(load_default=None)
    photographer_ids = UuidList(load_default=None)


class KpisSchema(Schema):
    members_enrolled = fields.Integer()
    revenue_in_cents = fields.Integer()
    photos_uploaded = fields.Integer()
    users_tagged = fields.Integer()
    purchases_made = fields.Integer()


class PhotographerPhotosSchema(Schema):
    """One of projects' ``photosByPhotographer`` rows, as it comes."""

    name = fields.String()
    photo_count = fields.Integer(attribute="photoCount")


class ProjectRevenueSchema(Schema):
    project_name = fields.String()
    purchases_made = fields.Integer()
    revenue_in_cents = fields.Integer()


class FunnelSchema(Schema):
    invited = fields.Integer()
    enrolled = fields.Integer()
    tagged = fields.Integer()
    purchased = fields.Integer()


class AnalyticsSchema(Schema):
    kpis = fields.Nested(KpisSchema)
    photos_by_photographer = fields.List(fields.Nested(PhotographerPhotosSchema))
    revenue_by_project = fields.List(fields.Nested(ProjectRevenueSchema))
    conversion_funnel = fields.Nested(FunnelSchema)
