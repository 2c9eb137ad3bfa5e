import uuid

from flask.views import MethodView

from auth_service.internal import blp
from auth_service.participants import rules
from auth_service.participants.schemas import (
    ParticipantCreateSchema,
    ParticipantLookupResultSchema,
    ParticipantLookupSchema,
    ParticipantSchema,
)
from backoffice_common.db import db
from backoffice_common.internal import internal_only


@blp.route("/participants")
class Participants(MethodView):
    decorators = [internal_only]

    @blp.arguments(ParticipantCreateSchema)
    @blp.response(201, ParticipantSchema)
    @blp.alt_response(200, schema=ParticipantSchema, description="The participant already existed.")
    def post(self, body):
        """Sign a participant up (idempotent on email)"""
        with db.unit_of_work() as session:
            participant, created = rules.ensure_participant(session=session, **body)
        return participant, 201 if created else 200


@blp.route("/participants/<uuid:participant_id>")
class ParticipantById(MethodView):
    decorators = [internal_only]

    @blp.response(200, ParticipantSchema)
    @blp.alt_response(404, description="No such participant.")
    def get(self, participant_id: uuid.UUID):
        """A participant's email and name (the source other services check a participant's email against)"""
        return rules.participant_by_id(session=db.session, participant_id=participant_id)


@blp.route("/participants/lookup")
class ParticipantLookup(MethodView):
    decorators = [internal_only]

    @blp.arguments(ParticipantLookupSchema)
    @blp.response(200, ParticipantLookupResultSchema)
    def post(self, body):
        """Which emails have a participant account (batched for invite lists)"""
        return rules.lookup(session=db.session, emails=body["emails"])
