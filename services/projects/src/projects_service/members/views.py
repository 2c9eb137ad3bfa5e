import uuid

from flask.views import MethodView

from backoffice_common.api import Blueprint
from backoffice_common.clock import utcnow
from backoffice_common.db import db
from backoffice_common.internal import internal_only
from backoffice_common.service import dependency
from projects_service.clients.auth import AuthClient
from projects_service.members import rules
from projects_service.members.schemas import JoinSchema, MemberSchema, TagSchema

blp = Blueprint(
    "members",
    __name__,
    url_prefix="/internal",
    description="The platform feed: participants joining projects, and face-match tags.",
)


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
            member, created = rules.join_as_participant(
                session=session, auth=dependency(AuthClient), project_id=project_id, now=utcnow(), **body
            )
        return member, 201 if created else 200


@blp.route("/photos/<uuid:photo_id>/tags")
class PhotoTags(MethodView):
    decorators = [internal_only]

    @blp.arguments(TagSchema)
    @blp.response(204)
    def post(self, body, photo_id: uuid.UUID):
        """Tag participants found in a photo (members of its project only)"""
        with db.unit_of_work() as session:
            rules.tag_photo(session=session, photo_id=photo_id, participant_ids=body["participant_ids"])
