import datetime as dt
import uuid

from flask import Response
from flask.views import MethodView
from marshmallow import RAISE

from backoffice_common.answers import KeptAnswers
from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.internal import internal_only
from backoffice_common.service import dependency
from backoffice_common.tokens import OPERATOR, PHOTOGRAPHER, current_identity, roles_required
from projects_service.config import Settings
from projects_service.projects import checkout, listing, qr_codes, rules
from projects_service.projects.schemas import (
    AssignmentSchema,
    CheckoutLookupResultSchema,
    CheckoutLookupSchema,
    InternalProjectSchema,
    ProjectCreateSchema,
    ProjectDetailSchema,
    ProjectLookupResultSchema,
    ProjectLookupSchema,
    ProjectQueryArgsSchema,
    ProjectStatusSchema,
    ProjectSummarySchema,
    ProjectUpdateSchema,
    QrPngArgsSchema,
)

blp = Blueprint("projects", __name__, url_prefix="/v1/projects", description="The operator's projects.")
internal_blp = Blueprint(
    "internal_projects", __name__, url_prefix="/internal/projects", description="What other services ask of projects."
)


_SUMMARIES = ProjectSummarySchema(many=True)


def _join_base_url() -> str:
    return dependency(Settings).join_base_url


@blp.route("")
class Projects(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(ProjectQueryArgsSchema, location="query")
    @blp.response(200, ProjectSummarySchema(many=True))
    def get(self, args):
        """List the operator's projects (archived ones only with ?status=archived)"""
        operator_id = current_identity().operator_id
        statement, params = listing.listed_projects(operator_id=operator_id, **args)
        return dependency(KeptAnswers).rows(
            db, ("projects", operator_id, args.get("status")), statement, params, _SUMMARIES
        )

    @blp.arguments(ProjectCreateSchema)
    @blp.response(201, ProjectDetailSchema)
    def post(self, fields):
        """Create a project"""
        with db.unit_of_work() as session:
            return rules.create_project(
                session=session,
                operator_id=current_identity().operator_id,
                fields=fields,
                join_base_url=_join_base_url(),
            )


@blp.route("/<uuid:project_id>")
class ProjectById(MethodView):
    @roles_required(OPERATOR, PHOTOGRAPHER)
    @blp.response(200, ProjectDetailSchema)
    def get(self, project_id: uuid.UUID):
        """Get a project with its photographers (operator, or a photographer assigned to it)"""
        return listing.visible_project(
            session=db.session, identity=current_identity(), project_id=project_id, join_base_url=_join_base_url()
        )

    @roles_required(OPERATOR)
    @blp.arguments(ProjectUpdateSchema)
    @blp.response(200, ProjectDetailSchema)
    def patch(self, changes, project_id: uuid.UUID):
        """Update a project's fields (not its status)"""
        with db.unit_of_work() as session:
            return rules.update_project(
                session=session,
                operator_id=current_identity().operator_id,
                project_id=project_id,
                changes=changes,
                join_base_url=_join_base_url(),
            )

    @roles_required(OPERATOR)
    @blp.response(204)
    def delete(self, project_id: uuid.UUID):
        """Delete a project and all its photos (R2 objects are removed in the background)"""
        with db.unit_of_work() as session:
            rules.delete_project(
                session=session,
                operator_id=current_identity().operator_id,
                project_id=project_id,
                upload_url_ttl=dt.timedelta(seconds=dependency(Settings).upload_url_ttl_s),
            )


@blp.route("/<uuid:project_id>/status")
class ProjectStatus(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(ProjectStatusSchema)
    @blp.response(200, ProjectDetailSchema)
    @blp.alt_response(409, description="Transition not allowed.")
    def patch(self, body, project_id: uuid.UUID):
        """Move a project to another status"""
        with db.unit_of_work() as session:
            return rules.change_status(
                session=session,
                operator_id=current_identity().operator_id,
                project_id=project_id,
                status=body["status"],
                join_base_url=_join_base_url(),
            )


@blp.route("/<uuid:project_id>/photographers")
class ProjectPhotographers(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(AssignmentSchema)
    @blp.response(204)
    def post(self, body, project_id: uuid.UUID):
        """Assign a photographer to a project"""
        with db.unit_of_work() as session:
            rules.assign_photographer(
                session=session,
                operator_id=current_identity().operator_id,
                project_id=project_id,
                photographer_id=body["photographer_id"],
            )


@blp.route("/<uuid:project_id>/photographers/<uuid:photographer_id>")
class ProjectPhotographer(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(204)
    def delete(self, project_id: uuid.UUID, photographer_id: uuid.UUID):
        """Remove a photographer from a project"""
        with db.unit_of_work() as session:
            rules.unassign_photographer(
                session=session,
                operator_id=current_identity().operator_id,
                project_id=project_id,
                photographer_id=photographer_id,
            )


_BINARY = {"type": "string", "format": "binary"}


@blp.route("/<uuid:project_id>/qr.svg")
class ProjectQrSvg(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(200, _BINARY, content_type="image/svg+xml", description="The QR code of the project's joinUrl.")
    @blp.alt_response(404, description="The project is not one of the operator's.")
    @blp.alt_response(409, description="A private project (joined through invites) has no QR code.")
    def get(self, project_id: uuid.UUID):
        """Get a public project's QR code as SVG"""
        svg = qr_codes.project_qr_svg(
            session=db.session,
            operator_id=current_identity().operator_id,
            project_id=project_id,
            join_base_url=_join_base_url(),
        )
        return Response(svg, mimetype="image/svg+xml")


@blp.route("/<uuid:project_id>/qr.png")
class ProjectQrPng(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(QrPngArgsSchema, location="query", unknown=RAISE)  # a typo (?szie=) is not a 512 px code
    @blp.response(
        200, _BINARY, content_type="image/png", description="The QR code of the project's joinUrl, size×size pixels."
    )
    @blp.alt_response(404, description="The project is not one of the operator's.")
    @blp.alt_response(409, description="A private project (joined through invites) has no QR code.")
    def get(self, args, project_id: uuid.UUID):
        """Get a public project's QR code as a PNG of size×size pixels"""
        png = qr_codes.project_qr_png(
            session=db.session,
            operator_id=current_identity().operator_id,
            project_id=project_id,
            join_base_url=_join_base_url(),
            size=args["size"],
        )
        return Response(png, mimetype="image/png")


@internal_blp.route("/<uuid:project_id>")
class InternalProject(MethodView):
    decorators = [internal_only]

    @internal_blp.response(200, InternalProjectSchema)
    def get(self, project_id: uuid.UUID):
        """Who owns a project, and its status (commerce checks ownership with this)"""
        return rules.internal_project(session=db.session, project_id=project_id)


@internal_blp.route("/lookup")
class ProjectLookup(MethodView):
    decorators = [internal_only]

    @internal_blp.arguments(ProjectLookupSchema)
    @internal_blp.response(200, ProjectLookupResultSchema)
    def post(self, body):
        """Name projects by id (unknown ids are left out; commerce names a page of purchases with this)"""
        return checkout.project_names(session=db.session, project_ids=body["ids"])


@internal_blp.route("/<uuid:project_id>/checkout-lookup")
class CheckoutLookup(MethodView):
    decorators = [internal_only]

    @internal_blp.arguments(CheckoutLookupSchema)
    @internal_blp.response(200, CheckoutLookupResultSchema)
    @internal_blp.alt_response(404, description="No such project.")
    def post(self, body, project_id: uuid.UUID):
        """What checkout checks: the project's status and owner, membership, and which photos are ready ones"""
        return checkout.checkout_lookup(session=db.session, project_id=project_id, **body)
