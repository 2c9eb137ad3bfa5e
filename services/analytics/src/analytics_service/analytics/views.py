from flask.views import MethodView
from marshmallow import RAISE

from analytics_service.analytics import rules, timeseries
from analytics_service.analytics.schemas import (
    AnalyticsQueryArgsSchema,
    AnalyticsSchema,
    TimeseriesQueryArgsSchema,
    TimeseriesSchema,
)
from analytics_service.clients.at_once import AtOnce
from analytics_service.clients.auth import AuthClient
from analytics_service.clients.commerce import CommerceClient
from analytics_service.clients.projects import ProjectsClient
from backoffice_common.api import Blueprint
from backoffice_common.clock import utcnow
from backoffice_common.service import dependency
from backoffice_common.tokens import OPERATOR, current_identity, roles_required

blp = Blueprint("analytics", __name__, url_prefix="/v1/analytics", description="The operator's KPIs.")


@blp.route("")
class Analytics(MethodView):
    decorators = [roles_required(OPERATOR)]

    # A misspelt filter (?projectId=) must not answer the unscoped figures as if it were absent.
    @blp.arguments(AnalyticsQueryArgsSchema, location="query", unknown=RAISE)
    @blp.response(200, AnalyticsSchema)
    def get(self, args):
        """KPIs, photos by photographer, revenue by project and the conversion funnel"""
        projects = dependency(ProjectsClient)
        return rules.operator_analytics(
            scope_of=projects.scope,
            projects_stats=projects.stats,
            commerce_stats=dependency(CommerceClient).stats,
            at_once=dependency(AtOnce),
            operator_id=current_identity().operator_id,
            **args,
        )


@blp.route("/timeseries")
class AnalyticsTimeseries(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(TimeseriesQueryArgsSchema, location="query", unknown=RAISE)
    @blp.response(200, TimeseriesSchema)
    def get(self, args):
        """Members, photos, purchases and revenue per day, week or month of the operator's time zone

        Buckets are calendar days, weeks from Monday or months in the operator's profile time zone, from `from` to
        `to` inclusive (default: the 30 days ending today, by day), every one present (zero-filled), oldest first,
        named by their first day; a first or last bucket only partly inside the window counts its days inside it.
        Each figure counts the events of its bucket: joins (not distinct people), photos made ready, purchases made
        paid and their totals (a refunded purchase leaves its bucket). Scope and filters as `GET /v1/analytics`.
        `from` after `to`, more than 400 buckets, a bad date or interval, an unknown or repeated parameter: 422.
        """
        return timeseries.operator_timeseries(
            timezone_of=dependency(AuthClient).timezone,
            projects_series=dependency(ProjectsClient).timeseries,
            commerce_series=dependency(CommerceClient).timeseries,
            operator_id=current_identity().operator_id,
            now=utcnow(),
            **args,
        )
