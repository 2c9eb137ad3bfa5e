from marshmallow import fields, validate

from backoffice_common.api import Schema
from backoffice_common.buckets import TimeseriesWindowSchema
from projects_service.projects.schemas import ProjectRefSchema


class ScopeQuerySchema(Schema):
    """Which projects the analytics cover (design §7): no ``projectIds`` means every non-archived project.

    Analytics sends ``/internal/stats`` the whole scope by id: as many ids as commerce accepts (the request body's
    1 MiB is the tighter bound, ~26,000 ids)."""

    operator_id = fields.UUID(required=True)
    project_ids = fields.List(fields.UUID(), allow_none=True, load_default=None, validate=validate.Length(max=100_000))


class ScopeSchema(Schema):
    project_ids = fields.List(fields.UUID())


class AnalyticsQuerySchema(ScopeQuerySchema):
    """The analytics service's question (design §7): the scope's, narrowed by photographers."""

    photographer_ids = fields.List(
        fields.UUID(), allow_none=True, load_default=None, validate=validate.Length(max=10_000)
    )


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


class TimeseriesQuerySchema(AnalyticsQuerySchema, TimeseriesWindowSchema):
    """Analytics over time (design §11): the buckets of ``from``..``to`` (dates in the operator's calendar)."""


class ProjectPointSchema(Schema):
    start = fields.Date()
    members_enrolled = fields.Integer()
    photos_uploaded = fields.Integer()


class ProjectSeriesSchema(Schema):
    project_ids = fields.List(fields.UUID())
    points = fields.List(fields.Nested(ProjectPointSchema))
