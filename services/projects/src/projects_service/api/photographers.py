import datetime as dt
import uuid

from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.tokens import OPERATOR, PHOTOGRAPHER, current_identity, roles_required
from flask import current_app
from flask.views import MethodView

from projects_service.schemas import (PhotographerSchema, PhotographerUpdateSchema, PhotoStatusSchema,
                                      PhotoUploadOutSchema, PhotoUploadSchema, ProjectDetailSchema,
                                      ProjectSummarySchema)
from projects_service.services import photos, projects, roster

blp = Blueprint("photographers", __name__, url_prefix="/v1/photographers",
                description="The photographer roster, and a photographer's own projects and uploads.")


def _auth():
    return current_app.extensions["auth_client"]


def _me():
    """The calling photographer's id, once we know the account still exists."""
    identity = current_identity()
    return roster.current_photographer(session=db.session, account_id=identity.account_id,
                                       operator_id=identity.operator_id).id


@blp.route("")
class Photographers(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(200, PhotographerSchema(many=True))
    def get(self):
        """List the operator's photographers with their projects"""
        return roster.list_photographers(session=db.session, operator_id=current_identity().operator_id)


@blp.route("/<uuid:photographer_id>")
class PhotographerById(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(PhotographerUpdateSchema)
    @blp.response(200, PhotographerSchema)
    @blp.alt_response(409, description="Email already registered.")
    def patch(self, changes, photographer_id: uuid.UUID):
        """Update a photographer's name or email (the email is also their login)"""
        with db.unit_of_work() as session:
            return roster.update_photographer(session=session, auth=_auth(), photographer_id=photographer_id,
                                              operator_id=current_identity().operator_id, changes=changes)

    @blp.response(204)
    @blp.alt_response(409, description="Still assigned to a project.")
    def delete(self, photographer_id: uuid.UUID):
        """Delete a photographer (refused while assigned to any project)"""
        with db.unit_of_work() as session:
            roster.delete_photographer(session=session, auth=_auth(), photographer_id=photographer_id,
                                       operator_id=current_identity().operator_id)


@blp.route("/me/projects")
class MyProjects(MethodView):
    decorators = [roles_required(PHOTOGRAPHER)]

    @blp.response(200, ProjectSummarySchema(many=True))
    def get(self):
        """List the projects the calling photographer is assigned to"""
        return projects.list_assigned_projects(session=db.session, photographer_id=_me())


@blp.route("/me/projects/<uuid:project_id>")
class MyProject(MethodView):
    decorators = [roles_required(PHOTOGRAPHER)]

    @blp.response(200, ProjectDetailSchema)
    def get(self, project_id: uuid.UUID):
        """Get one project the calling photographer is assigned to"""
        return projects.assigned_project_detail(session=db.session, photographer_id=_me(), project_id=project_id,
                                                join_base_url=current_app.extensions["settings"].join_base_url)


@blp.route("/me/projects/<uuid:project_id>/photos")
class MyUploads(MethodView):
    decorators = [roles_required(PHOTOGRAPHER)]

    @blp.arguments(PhotoUploadSchema)
    @blp.response(201, PhotoUploadOutSchema)
    def post(self, body, project_id: uuid.UUID):
        """Start a photo upload: returns a presigned PUT URL"""
        with db.unit_of_work() as session:
            return photos.start_upload(session=session, storage=current_app.extensions["storage"],
                                       photographer_id=_me(), project_id=project_id,
                                       now=dt.datetime.now(dt.timezone.utc), **body)


@blp.route("/me/projects/<uuid:project_id>/photos/<uuid:photo_id>/complete")
class MyUploadComplete(MethodView):
    decorators = [roles_required(PHOTOGRAPHER)]

    @blp.response(200, PhotoStatusSchema)
    @blp.alt_response(409, description="The object is not in the bucket (or not as announced).")
    def post(self, project_id: uuid.UUID, photo_id: uuid.UUID):
        """Mark an uploaded photo ready"""
        with db.unit_of_work() as session:
            return photos.complete_upload(session=session, storage=current_app.extensions["storage"],
                                          photographer_id=_me(), project_id=project_id, photo_id=photo_id)
