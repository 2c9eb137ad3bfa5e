from marshmallow import ValidationError, fields, validate, validates_schema

from backoffice_common.api import Schema
from backoffice_common.buckets import INTERVALS
from backoffice_common.validators import iana_timezone


class StatsRequestSchema(Schema):
    operator_id = fields.UUID(required=True)
    # Every project of the operator's scope, as projects listed it (no smaller cap than projects has).
    project_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(max=100_000))
    photographer_ids = fields.List(
        fields.UUID(), allow_none=True, load_default=None, validate=validate.Length(max=10_000)
    )


class ProjectFiguresSchema(Schema):
    project_id = fields.UUID()
    purchases_made = fields.Integer()
    revenue_in_cents = fields.Integer()


class StatsSchema(Schema):
    purchases_made = fields.Integer()
    revenue_in_cents = fields.Integer()
    buyers = fields.Integer()
    projects = fields.List(fields.Nested(ProjectFiguresSchema))


class TimeseriesRequestSchema(StatsRequestSchema):
    """Analytics over time (design §11): the buckets of ``from``..``to`` (dates in the operator's calendar)."""

    timezone = fields.String(required=True, validate=iana_timezone)
    interval = fields.String(required=True, validate=validate.OneOf(INTERVALS))
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data["start"] > data["end"]:
            raise ValidationError("Must not be before from.", "to")


class PointSchema(Schema):
    start = fields.Date()
    purchases_made = fields.Integer()
    revenue_in_cents = fields.Integer()


class TimeseriesSchema(Schema):
    points = fields.List(fields.Nested(PointSchema))
