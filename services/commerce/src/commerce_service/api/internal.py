import datetime as dt
import uuid

from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.internal import internal_only
from flask import current_app
from flask.views import MethodView

from commerce_service.clients.auth import auth_client
from commerce_service.clients.payments import payments
from commerce_service.clients.projects import projects_client
from commerce_service.schemas import (CheckoutHeadersSchema, CheckoutRequestSchema, CheckoutSchema,
                                      OperatorPurchasesSchema, QuoteRequestSchema, QuoteSchema,
                                      StatsRequestSchema, StatsSchema)
from commerce_service.services import pricing, purchases
from commerce_service.services.stats import purchase_stats
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
    @blp.alt_response(403, description="The participant is not a member of the project.")
    @blp.alt_response(404, description="Unknown project.")
    @blp.alt_response(409, description="The project is neither live nor closed, or no price applies to it now.")
    @blp.alt_response(422, description="Photos that are not ready photos of the project (as checkout refuses them).")
    def post(self, body):
        """Quote photos of a project for a participant (an unusable promo code is ignored)"""
        return pricing.quote(session=db.session, projects=projects_client(), project_id=body["project_id"],
                             participant_id=body["participant"]["id"], photo_ids=body["photo_ids"],
                             promo_code=body.get("promo_code"))


@blp.route("/checkout")
class Checkout(MethodView):
    decorators = [internal_only]

    @blp.arguments(CheckoutHeadersSchema, location="headers")
    @blp.arguments(CheckoutRequestSchema)
    @blp.response(201, CheckoutSchema)
    @blp.alt_response(200, schema=CheckoutSchema,
                      description="A repeat of the checkout made with this Idempotency-Key within "
                                  "IDEMPOTENCY_KEY_TTL_S (24 hours): that purchase.")
    @blp.alt_response(403, description="The participant is not a member of the project.")
    @blp.alt_response(404, description="Unknown project.")
    @blp.alt_response(409, description="The project is neither live nor closed, or no price applies to it now, "
                                       "or the Idempotency-Key was used for a different checkout.")
    @blp.alt_response(503, description="Stripe (or another service) is down; nothing is left pending.")
    def post(self, headers, body):
        """Buy photos: a pending purchase and its PaymentIntent (paid at once when free)"""
        answer, created = purchases.checkout(
            unit_of_work=db.unit_of_work, projects=projects_client(), auth=auth_client(), payments=payments(),
            project_id=body["project_id"], participant=body["participant"], photo_ids=body["photo_ids"],
            promo_code=body.get("promo_code"), idempotency_key=headers.get("idempotency_key"),
            key_ttl=dt.timedelta(seconds=current_app.extensions["settings"].idempotency_key_ttl_s))
        return answer, 201 if created else 200


@blp.route("/operators/<uuid:operator_id>/has-purchases")
class OperatorPurchases(MethodView):
    decorators = [internal_only]

    @blp.response(200, OperatorPurchasesSchema)
    def get(self, operator_id: uuid.UUID):
        """Tell whether the operator has any purchase (auth refuses a currency change once it has)"""
        with db.reading() as reader:
            return {"has_purchases": purchases.has_purchases(session=reader, operator_id=operator_id)}


@blp.route("/stats")
class Stats(MethodView):
    decorators = [internal_only]

    @blp.arguments(StatsRequestSchema)
    @blp.response(200, StatsSchema)
    def post(self, body):
        """Paid purchases of an operator's projects: count, revenue and buyers (for analytics)"""
        with db.reading() as reader:
            return purchase_stats(session=reader, **body)
