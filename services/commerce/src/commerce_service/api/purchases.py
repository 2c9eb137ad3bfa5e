import uuid

from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.tokens import OPERATOR, current_identity, roles_required
from flask.views import MethodView

from commerce_service.clients.projects import projects_client
from commerce_service.schemas import PurchaseDetailSchema, PurchasePageSchema, PurchaseQueryArgsSchema
from commerce_service.services import purchases

blp = Blueprint("purchases", __name__, url_prefix="/v1/purchases", description="The operator's orders.")


@blp.route("")
class Purchases(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(PurchaseQueryArgsSchema, location="query")
    @blp.response(200, PurchasePageSchema)
    def get(self, args):
        """List the operator's purchases, newest first"""
        with db.reading() as reader:
            return purchases.list_purchases(session=reader, projects=projects_client(),
                                            operator_id=current_identity().operator_id, **args)


@blp.route("/<uuid:purchase_id>")
class PurchaseById(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(200, PurchaseDetailSchema)
    @blp.alt_response(403, description="The purchase is another operator's.")
    @blp.alt_response(404, description="No such purchase.")
    def get(self, purchase_id: uuid.UUID):
        """Get a purchase with the photos it bought"""
        return purchases.get_purchase(session=db.session, projects=projects_client(),
                                      operator_id=current_identity().operator_id, purchase_id=purchase_id)
