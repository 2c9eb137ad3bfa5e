import datetime as dt
import uuid

from flask import Response, request, stream_with_context
from flask.views import MethodView
from marshmallow import RAISE

from backoffice_common.answers import KeptAnswers
from backoffice_common.api import Blueprint
from backoffice_common.clock import utcnow
from backoffice_common.db import db
from backoffice_common.internal import internal_only
from backoffice_common.service import dependency
from backoffice_common.tokens import OPERATOR, current_identity, roles_required
from commerce_service.clients.auth import AuthClient
from commerce_service.clients.payments import Payments
from commerce_service.clients.projects import ProjectsClient
from commerce_service.config import Settings
from commerce_service.internal import blp as internal
from commerce_service.purchases import checkout, export, listing, refunds
from commerce_service.purchases.schemas import (
    CheckoutHeadersSchema,
    CheckoutRequestSchema,
    CheckoutSchema,
    OperatorPurchasesSchema,
    PurchaseDetailSchema,
    PurchaseExportArgsSchema,
    PurchasePageSchema,
    PurchaseQueryArgsSchema,
    RefundedPurchaseSchema,
    RefundRequestSchema,
)
from commerce_service.purchases.webhooks import handle_webhook

_PAGE = PurchasePageSchema()

blp = Blueprint("purchases", __name__, url_prefix="/v1/purchases", description="The operator's orders.")
webhooks = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks", description="Events from Stripe.")


@blp.route("")
class Purchases(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(PurchaseQueryArgsSchema, location="query")
    @blp.response(200, _PAGE)
    def get(self, args):
        """List the operator's purchases, newest first"""
        operator_id = current_identity().operator_id
        statements, params = listing.purchase_page(operator_id=operator_id, **args)
        return dependency(KeptAnswers).answer(
            db,
            ("purchases", operator_id, *sorted(args.items())),
            statements,
            params,
            lambda reader: listing.list_purchases(
                session=reader, projects=dependency(ProjectsClient), operator_id=operator_id, **args
            ),
            _PAGE,
        )


@blp.route("/export.csv")
class PurchasesExport(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(PurchaseExportArgsSchema, location="query", unknown=RAISE)  # a typo is not "no filter"
    @blp.response(
        200,
        {"type": "string", "format": "binary"},
        content_type="text/csv",
        description="Every matching purchase, newest first, one CSV row each under a header row.",
    )
    def get(self, args):
        """Export the operator's purchases as CSV, newest first"""
        now = utcnow()
        with db.reading() as reader:
            chunks = export.export_purchases(
                session=reader,
                streaming=db.streaming,
                projects=dependency(ProjectsClient),
                operator_id=current_identity().operator_id,
                **args,
            )
        # stream_with_context: the rows are read as the answer is sent, with the request's database.
        return Response(
            stream_with_context(chunks),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="purchases-{now.date().isoformat()}.csv"'},
        )


@blp.route("/<uuid:purchase_id>")
class PurchaseById(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(200, PurchaseDetailSchema)
    @blp.alt_response(403, description="The purchase is another operator's.")
    @blp.alt_response(404, description="No such purchase.")
    def get(self, purchase_id: uuid.UUID):
        """Get a purchase with the photos it bought"""
        return listing.get_purchase(
            session=db.session,
            projects=dependency(ProjectsClient),
            operator_id=current_identity().operator_id,
            purchase_id=purchase_id,
        )


@blp.route("/<uuid:purchase_id>/refund")
class PurchaseRefund(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(RefundRequestSchema, required=False)
    @blp.response(200, RefundedPurchaseSchema)
    @blp.alt_response(403, description="The purchase is another operator's.")
    @blp.alt_response(404, description="No such purchase.")
    @blp.alt_response(
        409,
        description="The purchase is not paid (pending, failed or already refunded), or "
        "Stripe refuses to refund its payment.",
    )
    @blp.alt_response(503, description="Stripe is unavailable; the purchase stays paid.")
    def post(self, body, purchase_id: uuid.UUID):
        """Refund a paid purchase in full"""
        with db.unit_of_work() as session:
            return refunds.refund_purchase(
                session=session,
                payments=dependency(Payments),
                projects=dependency(ProjectsClient),
                operator_id=current_identity().operator_id,
                purchase_id=purchase_id,
                reason=(body or {}).get("reason"),
                now=utcnow(),
            )


@webhooks.route("/stripe")
class StripeWebhook(MethodView):
    @webhooks.response(200)
    @webhooks.alt_response(400, description="Missing or bad Stripe-Signature.")
    def post(self):
        """Receive a signed Stripe event (each event id is applied once)"""
        # The signature covers the exact bytes, so the body is read raw rather than through a schema.
        with db.unit_of_work() as session:
            handle_webhook(
                session=session,
                payments=dependency(Payments),
                payload=request.get_data(),
                signature=request.headers.get("Stripe-Signature"),
                projects=dependency(ProjectsClient),
            )
        return {"received": True}  # Stripe reads only the status; the body is a constant acknowledgement


@internal.route("/checkout")
class Checkout(MethodView):
    decorators = [internal_only]

    @internal.arguments(CheckoutHeadersSchema, location="headers")
    @internal.arguments(CheckoutRequestSchema)
    @internal.response(201, CheckoutSchema)
    @internal.alt_response(
        200,
        schema=CheckoutSchema,
        description="A repeat of the checkout made with this Idempotency-Key within "
        "IDEMPOTENCY_KEY_TTL_S (24 hours): that purchase.",
    )
    @internal.alt_response(403, description="The participant is not a member of the project.")
    @internal.alt_response(404, description="Unknown project.")
    @internal.alt_response(
        409,
        description="The project is neither live nor closed, or no price applies to it "
        "now, or the Idempotency-Key was used for a different checkout.",
    )
    @internal.alt_response(503, description="Stripe (or another service) is down; nothing is left pending.")
    def post(self, headers, body):
        """Buy photos: a pending purchase and its PaymentIntent (paid at once when free)"""
        bought, created = checkout.checkout(
            unit_of_work=db.unit_of_work,
            projects=dependency(ProjectsClient),
            auth=dependency(AuthClient),
            payments=dependency(Payments),
            project_id=body["project_id"],
            participant=body["participant"],
            photo_ids=body["photo_ids"],
            promo_code=body.get("promo_code"),
            idempotency_key=headers.get("idempotency_key"),
            key_ttl=dt.timedelta(seconds=dependency(Settings).idempotency_key_ttl_s),
            now=utcnow(),
        )
        return bought, 201 if created else 200


@internal.route("/operators/<uuid:operator_id>/has-purchases")
class OperatorPurchases(MethodView):
    decorators = [internal_only]

    @internal.response(200, OperatorPurchasesSchema)
    def get(self, operator_id: uuid.UUID):
        """Tell whether the operator has any purchase (auth refuses a currency change once it has)"""
        with db.reading() as reader:
            return listing.operator_purchases(session=reader, operator_id=operator_id)
