from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.internal import internal_only
from flask.views import MethodView

from auth_service.schemas import ParticipantCreateSchema, ParticipantSchema
from auth_service.services.participants import ensure_participant

blp = Blueprint("internal", __name__, url_prefix="/internal", description="Platform feed (design §9).")


@blp.route("/participants")
class Participants(MethodView):
    decorators = [internal_only]

    @blp.arguments(ParticipantCreateSchema)
    @blp.response(201, ParticipantSchema)
    @blp.alt_response(200, schema=ParticipantSchema, description="The participant already existed.")
    def post(self, body):
        """Sign a participant up (idempotent on email)"""
        with db.unit_of_work() as session:
            participant, created = ensure_participant(session=session, **body)
        return participant, 201 if created else 200
