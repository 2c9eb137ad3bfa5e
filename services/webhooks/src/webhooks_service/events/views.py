from flask.views import MethodView

from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.internal import internal_only
from webhooks_service.events import rules as events
from webhooks_service.events.schemas import EventSchema, IntakeSchema

blp = Blueprint(
    "events", __name__, url_prefix="/internal", description="Events from the producing services (their outboxes)."
)


@blp.route("/events")
class Events(MethodView):
    decorators = [internal_only]

    @blp.arguments(EventSchema)
    @blp.response(201, IntakeSchema)
    @blp.alt_response(200, schema=IntakeSchema, description="An event already kept (a producer's retry): no change.")
    def post(self, body):
        """Take an event and queue one delivery per active endpoint of its operator that wants it"""
        with db.unit_of_work() as session:
            intake = events.take_event(session=session, **body)
        return intake, 201 if intake.created else 200
