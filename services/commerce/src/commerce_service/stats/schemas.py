from marshmallow import fields, validate

from backoffice_common.api import Schema
from backoffice_common.buckets import TimeseriesWindowSchema


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


class TimeseriesRequestSchema(StatsRequestSchema, TimeseriesWindowSchema):
    """Analytics over time (design §11): the buckets of ``from``..``to`` (dates in the operator's calendar)."""


class PointSchema(Schema):
    start = fields.Date()
    purchases_made = fields.Integer()
    revenue_in_cents = fields.Integer()


class TimeseriesSchema(Schema):
    points = fields.List(fields.Nested(PointSchema))
