import uuid

from flask.views import MethodView

from backoffice_common.answers import KeptAnswers
from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.service import dependency
from backoffice_common.tokens import OPERATOR, current_identity, roles_required
from commerce_service.clients.projects import ProjectsClient
from commerce_service.discounts import rules as discounts
from commerce_service.discounts.schemas import (
    DiscountCreateSchema,
    DiscountLinkSchema,
    DiscountSchema,
    DiscountUpdateSchema,
)

_LISTED = DiscountSchema(many=True)

blp = Blueprint("discounts", __name__, url_prefix="/v1/discounts", description="The operator's discounts.")
links = Blueprint(
    "project_discounts", __name__, url_prefix="/v1/projects", description="Which discounts a project offers."
)


@blp.route("")
class Discounts(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(200, _LISTED)
    def get(self):
        """List the operator's discounts, newest first"""
        operator_id = current_identity().operator_id
        statement, params = discounts.list_discounts.statement, {"operator_id": operator_id}
        return dependency(KeptAnswers).rows(db, ("discounts", operator_id), statement, params, _LISTED)

    @blp.arguments(DiscountCreateSchema)
    @blp.response(201, DiscountSchema)
    def post(self, body):
        """Create a discount"""
        with db.unit_of_work() as session:
            return discounts.create_discount(session=session, operator_id=current_identity().operator_id, **body)


@blp.route("/<uuid:discount_id>")
class DiscountById(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(DiscountUpdateSchema)
    @blp.response(200, DiscountSchema)
    def patch(self, changes, discount_id: uuid.UUID):
        """Update a discount's name, dates or isActive"""
        with db.unit_of_work() as session:
            return discounts.update_discount(
                session=session, operator_id=current_identity().operator_id, discount_id=discount_id, changes=changes
            )

    @blp.response(204)
    @blp.alt_response(409, description="Still linked to a project or used by a promo code.")
    def delete(self, discount_id: uuid.UUID):
        """Delete a discount that no project and no promo code uses"""
        with db.unit_of_work() as session:
            discounts.delete_discount(
                session=session, operator_id=current_identity().operator_id, discount_id=discount_id
            )


@links.route("/<uuid:project_id>/discounts")
class ProjectDiscounts(MethodView):
    decorators = [roles_required(OPERATOR)]

    @links.response(200, DiscountSchema(many=True))
    def get(self, project_id: uuid.UUID):
        """List the discounts linked to a project, most recently linked first"""
        return discounts.project_discounts(
            session=db.session,
            projects=dependency(ProjectsClient),
            operator_id=current_identity().operator_id,
            project_id=project_id,
        )

    @links.arguments(DiscountLinkSchema)
    @links.response(204)
    @links.alt_response(404, description="The project or the discount is not the operator's.")
    def post(self, body, project_id: uuid.UUID):
        """Link a discount to a project (linking twice is a no-op)"""
        with db.unit_of_work() as session:
            discounts.link_discount(
                session=session,
                projects=dependency(ProjectsClient),
                operator_id=current_identity().operator_id,
                project_id=project_id,
                **body,
            )


@links.route("/<uuid:project_id>/discounts/<uuid:discount_id>")
class ProjectDiscount(MethodView):
    decorators = [roles_required(OPERATOR)]

    @links.response(204)
    def delete(self, project_id: uuid.UUID, discount_id: uuid.UUID):
        """Unlink a discount from a project (not linked: a no-op)"""
        with db.unit_of_work() as session:
            discounts.unlink_discount(
                session=session,
                projects=dependency(ProjectsClient),
                operator_id=current_identity().operator_id,
                project_id=project_id,
                discount_id=discount_id,
            )
