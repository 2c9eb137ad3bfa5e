import uuid

from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.internal import internal_only
from flask.views import MethodView

from auth_service.schemas import (AccountUpdateSchema, OperatorCardSchema, ParticipantCreateSchema,
                                  ParticipantLookupResultSchema, ParticipantLookupSchema, ParticipantSchema,
                                  PhotographerSchema)
from auth_service.services import accounts, profiles
from auth_service.services.participants import ensure_participant, participant_by_id, registered_emails

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


@blp.route("/participants/<uuid:participant_id>")
class ParticipantById(MethodView):
    decorators = [internal_only]

    @blp.response(200, ParticipantSchema)
    @blp.alt_response(404, description="No such participant.")
    def get(self, participant_id: uuid.UUID):
        """A participant's email and name (the source other services check a participant's email against)"""
        return participant_by_id(session=db.session, participant_id=participant_id)


@blp.route("/photographers/<uuid:account_id>")
class PhotographerAccount(MethodView):
    """The projects service keeps a photographer's login in step with its roster (design §4)."""

    decorators = [internal_only]

    @blp.arguments(AccountUpdateSchema)
    @blp.response(200, PhotographerSchema)
    @blp.alt_response(409, description="Email already registered.")
    def patch(self, changes, account_id: uuid.UUID):
        """Rename or re-email a photographer's login"""
        with db.unit_of_work() as session:
            return accounts.update_photographer(session=session, account_id=account_id, changes=changes)

    @blp.response(204)
    def delete(self, account_id: uuid.UUID):
        """Delete a photographer's login (idempotent)"""
        with db.unit_of_work() as session:
            accounts.delete_photographer(session=session, account_id=account_id)


@blp.route("/participants/lookup")
class ParticipantLookup(MethodView):
    decorators = [internal_only]

    @blp.arguments(ParticipantLookupSchema)
    @blp.response(200, ParticipantLookupResultSchema)
    def post(self, body):
        """Which emails have a participant account (batched for invite lists)"""
        return {"registered": registered_emails(session=db.session, emails=body["emails"])}


@blp.route("/operators/<uuid:operator_id>")
class OperatorCard(MethodView):
    decorators = [internal_only]

    @blp.response(200, OperatorCardSchema)
    def get(self, operator_id: uuid.UUID):
        """An operator's name, time zone and currency"""
        return profiles.read_operator(database=db, operator_id=operator_id)
