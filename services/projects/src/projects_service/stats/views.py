from flask.views import MethodView

from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.internal import internal_only
from projects_service.stats import rules, timeseries
from projects_service.stats.schemas import (
    AnalyticsQuerySchema,
    ProjectSeriesSchema,
    ProjectStatsSchema,
    ScopeQuerySchema,
    ScopeSchema,
    TimeseriesQuerySchema,
)

blp = Blueprint(
    "internal_stats",
    __name__,
    url_prefix="/internal/stats",
    description="The projects side of the operator's analytics (asked by the analytics service).",
)


@blp.route("")
class ProjectStats(MethodView):
    decorators = [internal_only]

    @blp.arguments(AnalyticsQuerySchema)
    @blp.response(200, ProjectStatsSchema)
    def post(self, query):
        """Scope, member, invite, photo and tag counts for an operator's analytics"""
        return rules.project_stats(read=db.read_side_by_side, **query)


@blp.route("/scope")
class AnalyticsScope(MethodView):
    decorators = [internal_only]

    @blp.arguments(ScopeQuerySchema)
    @blp.response(200, ScopeSchema)
    def post(self, query):
        """The ids of the projects an operator's analytics cover, asked before the figures so that both sides
        (projects, commerce) can be asked about exactly these at once"""
        return rules.scope_of(read=db.read_side_by_side, **query)


@blp.route("/timeseries")
class ProjectTimeseries(MethodView):
    decorators = [internal_only]

    @blp.arguments(TimeseriesQuerySchema)
    @blp.response(200, ProjectSeriesSchema)
    def post(self, query):
        """Scope, joins and photos made ready per calendar bucket for an operator's analytics over time"""
        with db.reading() as reader:
            return timeseries.project_timeseries(session=reader, **query)
