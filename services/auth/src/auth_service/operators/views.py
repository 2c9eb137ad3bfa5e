import uuid

from flask.views import MethodView

from auth_service import internal
from auth_service.clients.commerce import CommerceClient
from auth_service.operators import rules
from auth_service.operators.schemas import (
    OperatorAccountSchema,
    OperatorCardSchema,
    OperatorSchema,
    OperatorUpdateSchema,
)
from backoffice_common.answers import KeptAnswers, Rendered
from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.internal import internal_only
from backoffice_common.service import dependency
from backoffice_common.tokens import OPERATOR, current_identity, roles_required

_OPERATOR = OperatorSchema()

blp = Blueprint("operators", __name__, url_prefix="/v1/operators", description="The operator's own profile.")


@blp.route("/me")
class OperatorMe(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(200, OperatorSchema)
    def get(self):
        """Get the calling operator's profile"""
        operator_id = current_identity().account_id
        statements, params = rules.operator_statements(operator_id=operator_id)
        return dependency(KeptAnswers).answer(
            db,
            ("operator", operator_id),
            statements,
            params,
            lambda reader: Rendered(rules.operator_in(reader=reader, operator_id=operator_id)),
            _OPERATOR,
        )

    @blp.arguments(OperatorUpdateSchema)
    @blp.response(200, OperatorAccountSchema)
    @blp.alt_response(409, description="A new currency once the operator has purchases.")
    @blp.alt_response(503, description="Commerce could not say whether there are purchases; nothing changed.")
    def patch(self, changes):
        """Update the calling operator's profile"""
        with db.unit_of_work() as session:
            return rules.update_operator(
                session=session,
                operator_id=current_identity().account_id,
                changes=changes,
                has_purchases=dependency(CommerceClient).has_purchases,
            )


@internal.blp.route("/operators/<uuid:operator_id>")
class OperatorCard(MethodView):
    decorators = [internal_only]

    @internal.blp.response(200, OperatorCardSchema)
    def get(self, operator_id: uuid.UUID):
        """An operator's name, time zone and currency"""
        return rules.read_operator(database=db, operator_id=operator_id)
