import uuid

from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.internal import internal_only
from flask.views import MethodView

from commerce_service.clients.projects import projects_client
from commerce_service.schemas import QuoteRequestSchema, QuoteSchema
from commerce_service.services import pricing
from commerce_service.services.projects import project_deleted

blp = Blueprint("internal", __name__, url_prefix="/internal", description="Platform feed (design §9).")


@blp.route("/projects/<uuid:project_id>")
class DeletedProject(MethodView):
    decorators = [internal_only]

    @blp.response(204)
    def delete(self, project_id: uuid.UUID):
        """Drop a deleted project's pricing rules and discount links (idempotent)"""
        with db.unit_of_work() as session:
            project_deleted(session=session, project_id=project_id)
        projects_client().forget(project_id)


@blp.route("/checkout/quote")
class CheckoutQuote(MethodView):
    decorators = [internal_only]

    @blp.arguments(QuoteRequestSchema)
    @blp.response(200, QuoteSchema)
    @blp.alt_response(404, description="Unknown project.")
    @blp.alt_response(409, description="No price applies to the project now.")
    def post(self, body):
        """Quote photos of a project for a participant (an unusable promo code is ignored)"""
        return pricing.quote(session=db.session, projects=projects_client(), project_id=body["project_id"],
                             participant_id=body["participant"]["id"], photo_ids=body["photo_ids"],
                             promo_code=body.get("promo_code"))
