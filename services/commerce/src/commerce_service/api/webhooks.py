from backoffice_common.api import Blueprint
from backoffice_common.db import db
from flask import request
from flask.views import MethodView

from commerce_service.clients.payments import payments
from commerce_service.services.payments import handle_webhook

blp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks", description="Events from Stripe.")


@blp.route("/stripe")
class StripeWebhook(MethodView):
    @blp.response(200)
    @blp.alt_response(400, description="Missing or bad Stripe-Signature.")
    def post(self):
        """Receive a signed Stripe event (each event id is applied once)"""
        # The signature covers the exact bytes, so the body is read raw rather than through a schema.
        with db.unit_of_work() as session:
            handle_webhook(session=session, payments=payments(), payload=request.get_data(),
                           signature=request.headers.get("Stripe-Signature"))
        return {"received": True}
