import uuid

from flask.views import MethodView

from backoffice_common.answers import KeptAnswers, Rendered
from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.internal import internal_only
from backoffice_common.service import dependency
from backoffice_common.tokens import OPERATOR, PHOTOGRAPHER, current_identity, roles_required
from projects_service.clients.auth import AuthClient
from projects_service.config import Settings
from projects_service.photographers import rules
from projects_service.photographers.schemas import (
    PhotographerSchema,
    PhotographerUpdateSchema,
    RosterEntryOutSchema,
    RosterEntrySchema,
)
from projects_service.projects import listing
from projects_service.projects.schemas import ProjectDetailSchema, ProjectSummarySchema

blp = Blueprint(
    "photographers",
    __name__,
    url_prefix="/v1/photographers",
    description="The photographer roster, and a photographer's own projects.",
)
internal_blp = Blueprint(
    "internal_photographers",
    __name__,
    url_prefix="/internal/photographers",
    description="auth keeps the roster in step with photographer accounts.",
)

_PHOTOGRAPHERS = PhotographerSchema(many=True)


@blp.route("")
class Photographers(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(200, PhotographerSchema(many=True))
    def get(self):
        """List the operator's photographers with their projects"""
        operator_id = current_identity().operator_id
        statements, params = rules.roster_statements(operator_id=operator_id)
        return dependency(KeptAnswers).answer(
            db,
            ("photographers", operator_id),
            statements,
            params,
            lambda reader: Rendered(rules.list_photographers(session=reader, operator_id=operator_id)),
            _PHOTOGRAPHERS,
        )


@blp.route("/<uuid:photographer_id>")
class PhotographerById(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(PhotographerUpdateSchema)
    @blp.response(200, PhotographerSchema)
    @blp.alt_response(409, description="Email already registered.")
    def patch(self, changes, photographer_id: uuid.UUID):
        """Update a photographer's name or email (the email is also their login)"""
        with db.unit_of_work() as session:
            return rules.update_photographer(
                session=session,
                auth=dependency(AuthClient),
                photographer_id=photographer_id,
                operator_id=current_identity().operator_id,
                changes=changes,
            )

    @blp.response(204)
    @blp.alt_response(409, description="Still assigned to a project.")
    def delete(self, photographer_id: uuid.UUID):
        """Delete a photographer (refused while assigned to any project)"""
        with db.unit_of_work() as session:
            rules.delete_photographer(
                session=session,
                auth=dependency(AuthClient),
                photographer_id=photographer_id,
                operator_id=current_identity().operator_id,
            )


@blp.route("/me/projects")
class MyProjects(MethodView):
    decorators = [roles_required(PHOTOGRAPHER)]

    @blp.response(200, ProjectSummarySchema(many=True))
    def get(self):
        """List the projects the calling photographer is assigned to"""
        identity = current_identity()
        return listing.my_projects(session=db.session, account_id=identity.account_id, operator_id=identity.operator_id)


@blp.route("/me/projects/<uuid:project_id>")
class MyProject(MethodView):
    decorators = [roles_required(PHOTOGRAPHER)]

    @blp.response(200, ProjectDetailSchema)
    def get(self, project_id: uuid.UUID):
        """Get one project the calling photographer is assigned to"""
        identity = current_identity()
        return listing.my_project(
            session=db.session,
            account_id=identity.account_id,
            operator_id=identity.operator_id,
            project_id=project_id,
            join_base_url=dependency(Settings).join_base_url,
        )


@internal_blp.route("/<uuid:photographer_id>")
class RosterEntry(MethodView):
    decorators = [internal_only]

    @internal_blp.arguments(RosterEntrySchema)
    @internal_blp.response(200, RosterEntryOutSchema)
    @internal_blp.alt_response(201, schema=RosterEntryOutSchema, description="Created.")
    def put(self, body, photographer_id: uuid.UUID):
        """Create or update a photographer's roster entry"""
        with db.unit_of_work() as session:
            entry, created = rules.put_photographer(session=session, photographer_id=photographer_id, **body)
        return entry, 201 if created else 200

    @internal_blp.response(204)
    def delete(self, photographer_id: uuid.UUID):
        """Remove a photographer's roster entry (idempotent)"""
        with db.unit_of_work() as session:
            rules.remove_photographer(session=session, photographer_id=photographer_id)
