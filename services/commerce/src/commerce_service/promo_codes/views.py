import uuid

from flask.views import MethodView

from backoffice_common.answers import KeptAnswers
from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.service import dependency
from backoffice_common.tokens import OPERATOR, current_identity, roles_required
from commerce_service.promo_codes import rules as promo_codes
from commerce_service.promo_codes.schemas import PromoCodeCreateSchema, PromoCodeSchema, PromoCodeUpdateSchema

_LISTED = PromoCodeSchema(many=True)

blp = Blueprint("promo_codes", __name__, url_prefix="/v1/promo-codes", description="The operator's promo codes.")


@blp.route("")
class PromoCodes(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(200, _LISTED)
    def get(self):
        """List the operator's promo codes, newest first"""
        operator_id = current_identity().operator_id
        statement, params = promo_codes.list_promo_codes.statement, {"operator_id": operator_id}
        return dependency(KeptAnswers).rows(db, ("promo_codes", operator_id), statement, params, _LISTED)

    @blp.arguments(PromoCodeCreateSchema)
    @blp.response(201, PromoCodeSchema)
    @blp.alt_response(404, description="The discount is not the operator's.")
    @blp.alt_response(409, description="The operator already has this code (ignoring case).")
    def post(self, body):
        """Create a promo code for one of the operator's discounts"""
        with db.unit_of_work() as session:
            return promo_codes.create_promo_code(session=session, operator_id=current_identity().operator_id, **body)


@blp.route("/<uuid:promo_code_id>")
class PromoCodeById(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(PromoCodeUpdateSchema)
    @blp.response(200, PromoCodeSchema)
    def patch(self, changes, promo_code_id: uuid.UUID):
        """Update a promo code's isActive, limits or dates"""
        with db.unit_of_work() as session:
            return promo_codes.update_promo_code(
                session=session,
                operator_id=current_identity().operator_id,
                promo_code_id=promo_code_id,
                changes=changes,
            )

    @blp.response(204)
    def delete(self, promo_code_id: uuid.UUID):
        """Delete a promo code"""
        with db.unit_of_work() as session:
            promo_codes.delete_promo_code(
                session=session, operator_id=current_identity().operator_id, promo_code_id=promo_code_id
            )
