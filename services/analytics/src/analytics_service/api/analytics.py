from backoffice_common.api import Blueprint
from backoffice_common.tokens import OPERATOR, current_identity, roles_required
from flask import current_app
from flask.views import MethodView
from marshmallow import RAISE

from analytics_service.schemas import AnalyticsArgsSchema, AnalyticsSchema
from analytics_service.services.analytics import operator_analytics

blp = Blueprint("analytics", __name__, url_prefix="/v1/analytics", description="The operator's KPIs.")


@blp.route("")
class Analytics(MethodView):
    decorators = [roles_required(OPERATOR)]

    # A misspelt filter (?projectId=) must not answer the unscoped figures as if it were absent.
    @blp.arguments(AnalyticsArgsSchema, location="query", unknown=RAISE)
    @blp.response(200, AnalyticsSchema)
    def get(self, args):
        """KPIs, photos by photographer, revenue by project and the conversion funnel"""
        return operator_analytics(projects_stats=current_app.extensions["projects_stats"],
                                  commerce_stats=current_app.extensions["commerce_stats"],
                                  operator_id=current_identity().operator_id, **args)
