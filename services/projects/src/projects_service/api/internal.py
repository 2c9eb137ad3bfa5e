import datetime as dt
import uuid

from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.internal import internal_only
from flask import current_app
from flask.views import MethodView

from projects_service.schemas import (CheckoutLookupResultSchema, CheckoutLookupSchema, InternalProjectSchema,
                                      JoinSchema, MemberSchema, ProjectLookupResultSchema, ProjectLookupSchema,
                                      RosterEntryOutSchema, RosterEntrySchema, TagSchema)
from projects_service.services import checkout, members, roster
from projects_service.services.projects import internal_project

blp = Blueprint("internal", __name__, url_prefix="/internal", description="Calls from other services.")


@blp.route("/photographers/<uuid:photographer_id>")
class RosterEntry(MethodView):
    decorators = [internal_only]

    @blp.arguments(RosterEntrySchema)
    @blp.response(200, RosterEntryOutSchema)
    @blp.alt_response(201, schema=RosterEntryOutSchema, description="Created.")
    def put(self, body, photographer_id: uuid.UUID):
        """Create or update a photographer's roster entry"""
        with db.unit_of_work() as session:
            entry, created = roster.put_photographer(session=session, photographer_id=photographer_id, **body)
        return entry, 201 if created else 200

    @blp.response(204)
    def delete(self, photographer_id: uuid.UUID):
        """Remove a photographer's roster entry (idempotent)"""
        with db.unit_of_work() as session:
            roster.remove_photographer(session=session, photographer_id=photographer_id)


@blp.route("/projects/<uuid:project_id>")
class InternalProject(MethodView):
    decorators = [internal_only]

    @blp.response(200, InternalProjectSchema)
    def get(self, project_id: uuid.UUID):
        """Who owns a project, and its status (commerce checks ownership with this)"""
        return internal_project(session=db.session, project_id=project_id)


@blp.route("/projects/lookup")
class ProjectLookup(MethodView):
    decorators = [internal_only]

    @blp.arguments(ProjectLookupSchema)
    @blp.response(200, ProjectLookupResultSchema)
    def post(self, body):
        """Name projects by id (unknown ids are left out; commerce names a page of purchases with this)"""
        return {"projects": checkout.project_names(session=db.session, project_ids=body["ids"])}


@blp.route("/projects/<uuid:project_id>/checkout-lookup")
class CheckoutLookup(MethodView):
    decorators = [internal_only]

    @blp.arguments(CheckoutLookupSchema)
    @blp.response(200, CheckoutLookupResultSchema)
    @blp.alt_response(404, description="No such project.")
    def post(self, body, project_id: uuid.UUID):
        """What checkout checks: the project's status and owner, membership, and which photos are ready ones"""
        return checkout.checkout_lookup(session=db.session, project_id=project_id, **body)


@blp.route("/projects/<uuid:project_id>/members")
class ProjectMembers(MethodView):
    decorators = [internal_only]

    @blp.arguments(JoinSchema)
    @blp.response(201, MemberSchema)
    @blp.alt_response(200, schema=MemberSchema, description="Already a member.")
    @blp.alt_response(403, description="Private project without a valid invite for that email.")
    @blp.alt_response(409, description="The project is not live.")
    @blp.alt_response(422, description="Unknown participant, or an email that is not the participant's own.")
    def post(self, body, project_id: uuid.UUID):
        """A participant joins a project"""
        with db.unit_of_work() as session:
            member, created = members.join_as_participant(session=session, auth=current_app.extensions["auth_client"],
                                                          project_id=project_id,
                                                          now=dt.datetime.now(dt.timezone.utc), **body)
        return member, 201 if created else 200


@blp.route("/photos/<uuid:photo_id>/tags")
class PhotoTags(MethodView):
    decorators = [internal_only]

    @blp.arguments(TagSchema)
    @blp.response(204)
    def post(self, body, photo_id: uuid.UUID):
        """Tag participants found in a photo (members of its project only)"""
        with db.unit_of_work() as session:
            members.tag_photo(session=session, photo_id=photo_id, participant_ids=body["participant_ids"])
