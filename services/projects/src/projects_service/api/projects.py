import datetime as dt
import uuid

from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.tokens import OPERATOR, PHOTOGRAPHER, current_identity, roles_required
from flask import Response, current_app
from flask.views import MethodView
from marshmallow import RAISE

from projects_service.schemas import (AssignmentSchema, ProjectCreateSchema, ProjectDetailSchema, ProjectFieldsSchema,
                                      ProjectListArgsSchema, ProjectStatusSchema, ProjectSummarySchema,
                                      QrPngArgsSchema)
from projects_service.services import projects, qr_codes, roster

blp = Blueprint("projects", __name__, url_prefix="/v1/projects", description="The operator's projects.")


def _settings():
    return current_app.extensions["settings"]


def _join_base_url() -> str:
    return _settings().join_base_url


def _detail_for_operator(session, project_id: uuid.UUID) -> dict:
    return projects.project_detail(session=session, operator_id=current_identity().operator_id,
                                   project_id=project_id, join_base_url=_join_base_url())


@blp.route("")
class Projects(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(ProjectListArgsSchema, location="query")
    @blp.response(200, ProjectSummarySchema(many=True))
    def get(self, args):
        """List the operator's projects (archived ones only with ?status=archived)"""
        with db.reading() as reader:
            return projects.list_projects(session=reader, operator_id=current_identity().operator_id, **args)

    @blp.arguments(ProjectCreateSchema)
    @blp.response(201, ProjectDetailSchema)
    def post(self, fields):
        """Create a project"""
        with db.unit_of_work() as session:
            project_id = projects.create_project(session=session, operator_id=current_identity().operator_id,
                                                 fields=fields)
        return _detail_for_operator(db.session, project_id)


@blp.route("/<uuid:project_id>")
class ProjectById(MethodView):
    @roles_required(OPERATOR, PHOTOGRAPHER)
    @blp.response(200, ProjectDetailSchema)
    def get(self, project_id: uuid.UUID):
        """Get a project with its photographers (operator, or a photographer assigned to it)"""
        identity = current_identity()
        if identity.role == PHOTOGRAPHER:
            roster.current_photographer(session=db.session, account_id=identity.account_id,
                                        operator_id=identity.operator_id)
            return projects.assigned_project_detail(session=db.session, photographer_id=identity.account_id,
                                                    project_id=project_id, join_base_url=_join_base_url())
        return _detail_for_operator(db.session, project_id)

    @roles_required(OPERATOR)
    @blp.arguments(ProjectFieldsSchema)
    @blp.response(200, ProjectDetailSchema)
    def patch(self, changes, project_id: uuid.UUID):
        """Update a project's fields (not its status)"""
        with db.unit_of_work() as session:
            projects.update_project(session=session, operator_id=current_identity().operator_id,
                                    project_id=project_id, changes=changes)
        return _detail_for_operator(db.session, project_id)

    @roles_required(OPERATOR)
    @blp.response(204)
    def delete(self, project_id: uuid.UUID):
        """Delete a project and all its photos (R2 objects are removed in the background)"""
        with db.unit_of_work() as session:
            projects.delete_project(session=session, operator_id=current_identity().operator_id, project_id=project_id,
                                    upload_url_ttl=dt.timedelta(seconds=_settings().upload_url_ttl_s))


@blp.route("/<uuid:project_id>/status")
class ProjectStatus(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(ProjectStatusSchema)
    @blp.response(200, ProjectDetailSchema)
    @blp.alt_response(409, description="Transition not allowed.")
    def patch(self, body, project_id: uuid.UUID):
        """Move a project to another status"""
        with db.unit_of_work() as session:
            projects.change_status(session=session, operator_id=current_identity().operator_id,
                                   project_id=project_id, status=body["status"])
        return _detail_for_operator(db.session, project_id)


@blp.route("/<uuid:project_id>/photographers")
class ProjectPhotographers(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(AssignmentSchema)
    @blp.response(204)
    def post(self, body, project_id: uuid.UUID):
        """Assign a photographer to a project"""
        with db.unit_of_work() as session:
            projects.assign_photographer(session=session, operator_id=current_identity().operator_id,
                                         project_id=project_id, photographer_id=body["photographer_id"])


@blp.route("/<uuid:project_id>/photographers/<uuid:photographer_id>")
class ProjectPhotographer(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(204)
    def delete(self, project_id: uuid.UUID, photographer_id: uuid.UUID):
        """Remove a photographer from a project"""
        with db.unit_of_work() as session:
            projects.unassign_photographer(session=session, operator_id=current_identity().operator_id,
                                           project_id=project_id, photographer_id=photographer_id)


def _public_join_url(project_id: uuid.UUID) -> str:
    return qr_codes.public_join_url(session=db.session, operator_id=current_identity().operator_id,
                                    project_id=project_id, join_base_url=_join_base_url())


_BINARY = {"type": "string", "format": "binary"}


@blp.route("/<uuid:project_id>/qr.svg")
class ProjectQrSvg(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(200, _BINARY, content_type="image/svg+xml", description="The QR code of the project's joinUrl.")
    @blp.alt_response(404, description="The project is not one of the operator's.")
    @blp.alt_response(409, description="A private project (joined through invites) has no QR code.")
    def get(self, project_id: uuid.UUID):
        """Get a public project's QR code as SVG"""
        return Response(qr_codes.qr_svg(_public_join_url(project_id)), mimetype="image/svg+xml")


@blp.route("/<uuid:project_id>/qr.png")
class ProjectQrPng(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(QrPngArgsSchema, location="query", unknown=RAISE)  # a typo (?szie=) is not a 512 px code
    @blp.response(200, _BINARY, content_type="image/png",
                  description="The QR code of the project's joinUrl, size×size pixels.")
    @blp.alt_response(404, description="The project is not one of the operator's.")
    @blp.alt_response(409, description="A private project (joined through invites) has no QR code.")
    def get(self, args, project_id: uuid.UUID):
        """Get a public project's QR code as a PNG of size×size pixels"""
        return Response(qr_codes.qr_png(_public_join_url(project_id), args["size"]), mimetype="image/png")
