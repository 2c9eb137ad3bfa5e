import uuid

from flask.views import MethodView

from backoffice_common.answers import KeptAnswers
from backoffice_common.api import Blueprint
from backoffice_common.clock import utcnow
from backoffice_common.db import db
from backoffice_common.internal import internal_only
from backoffice_common.service import dependency
from backoffice_common.tokens import OPERATOR, current_identity, roles_required
from commerce_service.clients.projects import ProjectsClient
from commerce_service.internal import blp as internal
from commerce_service.pricing import engine
from commerce_service.pricing import rules as pricing_rules
from commerce_service.pricing.schemas import (
    PricingRuleCreateSchema,
    PricingRuleSchema,
    PricingRuleUpdateSchema,
    QuoteRequestSchema,
    QuoteSchema,
)

_LISTED = PricingRuleSchema(many=True)

blp = Blueprint("pricing", __name__, url_prefix="/v1/pricing", description="Prices per photo.")


@blp.route("/rules")
class PricingRules(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(200, _LISTED)
    def get(self):
        """List the operator's pricing rules (the default and every project override), newest first"""
        operator_id = current_identity().operator_id
        statement, params = pricing_rules.list_rules.statement, {"operator_id": operator_id}
        return dependency(KeptAnswers).rows(db, ("pricing_rules", operator_id), statement, params, _LISTED)

    @blp.arguments(PricingRuleCreateSchema)
    @blp.response(201, PricingRuleSchema)
    @blp.alt_response(404, description="The project is not one of the operator's.")
    @blp.alt_response(409, description="An active rule of the same scope overlaps this period.")
    def post(self, body):
        """Create a pricing rule (the operator default when projectId is omitted)"""
        with db.unit_of_work() as session:
            return pricing_rules.create_rule(
                session=session, projects=dependency(ProjectsClient), operator_id=current_identity().operator_id, **body
            )


@blp.route("/rules/<uuid:rule_id>")
class PricingRuleById(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(PricingRuleUpdateSchema)
    @blp.response(200, PricingRuleSchema)
    @blp.alt_response(409, description="An active rule of the same scope overlaps this period.")
    def patch(self, changes, rule_id: uuid.UUID):
        """Update a pricing rule's price, compare-at price, dates or isActive"""
        with db.unit_of_work() as session:
            return pricing_rules.update_rule(
                session=session, operator_id=current_identity().operator_id, rule_id=rule_id, changes=changes
            )

    @blp.response(204)
    def delete(self, rule_id: uuid.UUID):
        """Delete a pricing rule"""
        with db.unit_of_work() as session:
            pricing_rules.delete_rule(session=session, operator_id=current_identity().operator_id, rule_id=rule_id)


@internal.route("/checkout/quote")
class CheckoutQuote(MethodView):
    decorators = [internal_only]

    @internal.arguments(QuoteRequestSchema)
    @internal.response(200, QuoteSchema)
    @internal.alt_response(403, description="The participant is not a member of the project.")
    @internal.alt_response(404, description="Unknown project.")
    @internal.alt_response(409, description="The project is neither live nor closed, or no price applies to it now.")
    @internal.alt_response(
        422,
        description="Photos that are not ready photos of the project, or repeated, or more "
        "than 500 (as checkout refuses them).",
    )
    def post(self, body):
        """Quote photos of a project for a participant (an unusable promo code is ignored)"""
        return engine.quote(
            session=db.session,
            projects=dependency(ProjectsClient),
            project_id=body["project_id"],
            participant_id=body["participant"]["id"],
            photo_ids=body["photo_ids"],
            promo_code=body.get("promo_code"),
            now=utcnow(),
        )
