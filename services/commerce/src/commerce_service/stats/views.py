from flask.views import MethodView

from backoffice_common.db import db
from backoffice_common.internal import internal_only
from commerce_service.internal import blp
from commerce_service.stats.rules import purchase_stats
from commerce_service.stats.schemas import StatsRequestSchema, StatsSchema, TimeseriesRequestSchema, TimeseriesSchema
from commerce_service.stats.timeseries import purchase_timeseries


@blp.route("/stats")
class Stats(MethodView):
    decorators = [internal_only]

    @blp.arguments(StatsRequestSchema)
    @blp.response(200, StatsSchema)
    def post(self, body):
        """Paid purchases of an operator's projects: count, revenue and buyers (for analytics)"""
        return purchase_stats(read=db.read_side_by_side, **body)


@blp.route("/stats/timeseries")
class Timeseries(MethodView):
    decorators = [internal_only]

    @blp.arguments(TimeseriesRequestSchema)
    @blp.response(200, TimeseriesSchema)
    def post(self, body):
        """Paid purchases and revenue per calendar bucket of an operator's projects (for analytics over time)"""
        with db.reading() as reader:
            return {"points": purchase_timeseries(session=reader, **body)}
