from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.tokens import OPERATOR, current_identity, roles_required
from flask.views import MethodView

from auth_service.clients.commerce import commerce_client
from auth_service.schemas import OperatorSchema, OperatorUpdateSchema
from auth_service.services import profiles

blp = Blueprint("operators", __name__, url_prefix="/v1/operators", description="The operator's own profile.")


def _dump(account) -> dict:
    profile = account.profile
    return {
        "id": account.id, "name": account.name, "email": account.email,
        "address": profile.address, "billing_address": profile.billing_address, "currency": profile.currency,
        "locale": profile.locale, "timezone": profile.timezone, "profile_picture_url": profile.profile_picture_url,
        "created_at": account.created_at, "updated_at": account.updated_at,
    }


@blp.route("/me")
class OperatorMe(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(200, OperatorSchema)
    def get(self):
        """Get the calling operator's profile"""
        return profiles.read_operator(database=db, operator_id=current_identity().account_id)

    @blp.arguments(OperatorUpdateSchema)
    @blp.response(200, OperatorSchema)
    @blp.alt_response(409, description="A new currency once the operator has purchases.")
    @blp.alt_response(503, description="Commerce could not say whether there are purchases; nothing changed.")
    def patch(self, changes):
        """Update the calling operator's profile"""
        with db.unit_of_work() as session:
            account = profiles.update_operator(session=session, operator_id=current_identity().account_id,
                                               changes=changes, has_purchases=commerce_client().has_purchases)
        return _dump(account)
