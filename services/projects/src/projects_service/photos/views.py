import uuid

from flask.views import MethodView

from backoffice_common.api import Blueprint
from backoffice_common.clock import utcnow
from backoffice_common.db import db
from backoffice_common.service import dependency
from backoffice_common.tokens import PHOTOGRAPHER, current_identity, roles_required
from projects_service.clients.storage import Storage
from projects_service.photos import rules
from projects_service.photos.schemas import PhotoStatusSchema, PhotoUploadOutSchema, PhotoUploadSchema

blp = Blueprint(
    "photos",
    __name__,
    url_prefix="/v1/photographers/me/projects",
    description="A photographer's uploads to the projects they are assigned to.",
)


@blp.route("/<uuid:project_id>/photos")
class MyUploads(MethodView):
    decorators = [roles_required(PHOTOGRAPHER)]

    @blp.arguments(PhotoUploadSchema)
    @blp.response(201, PhotoUploadOutSchema)
    def post(self, body, project_id: uuid.UUID):
        """Start a photo upload: returns a presigned PUT URL"""
        identity = current_identity()
        with db.unit_of_work() as session:
            return rules.start_upload(
                session=session,
                storage=dependency(Storage),
                account_id=identity.account_id,
                operator_id=identity.operator_id,
                project_id=project_id,
                now=utcnow(),
                **body,
            )


@blp.route("/<uuid:project_id>/photos/<uuid:photo_id>/complete")
class MyUploadComplete(MethodView):
    decorators = [roles_required(PHOTOGRAPHER)]

    @blp.response(200, PhotoStatusSchema)
    @blp.alt_response(409, description="The object is not in the bucket (or not as announced).")
    def post(self, project_id: uuid.UUID, photo_id: uuid.UUID):
        """Mark an uploaded photo ready"""
        identity = current_identity()
        with db.unit_of_work() as session:
            return rules.complete_upload(
                session=session,
                storage=dependency(Storage),
                account_id=identity.account_id,
                operator_id=identity.operator_id,
                project_id=project_id,
                photo_id=photo_id,
            )
