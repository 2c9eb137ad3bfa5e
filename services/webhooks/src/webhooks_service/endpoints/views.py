import uuid

from flask.views import MethodView

from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.service import dependency
from backoffice_common.tokens import OPERATOR, current_identity, roles_required
from webhooks_service.config import Settings
from webhooks_service.deliveries import listing as deliveries
from webhooks_service.endpoints import rules as endpoints
from webhooks_service.endpoints.schemas import (
    CreatedEndpointSchema,
    DeliveryQueryArgsSchema,
    DeliverySchema,
    EndpointCreateSchema,
    EndpointSchema,
    EndpointUpdateSchema,
)

blp = Blueprint(
    "webhook_endpoints",
    __name__,
    url_prefix="/v1/webhook-endpoints",
    description="The operator's webhook endpoints: signed events POSTed to their own systems.",
)


def _prod() -> bool:
    return dependency(Settings).app_env == "prod"


@blp.route("")
class WebhookEndpoints(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(200, EndpointSchema(many=True))
    def get(self):
        """List the operator's webhook endpoints, newest first (without secrets)"""
        with db.reading() as reader:
            return endpoints.list_endpoints(session=reader, operator_id=current_identity().operator_id)

    @blp.arguments(EndpointCreateSchema)
    @blp.response(201, CreatedEndpointSchema)
    @blp.alt_response(409, description="The operator already has 20 endpoints.")
    def post(self, body):
        """Create a webhook endpoint (the answer shows its signing secret, once)"""
        with db.unit_of_work() as session:
            return endpoints.create_endpoint(
                session=session, operator_id=current_identity().operator_id, prod=_prod(), **body
            )


@blp.route("/<uuid:endpoint_id>")
class WebhookEndpointById(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(200, EndpointSchema)
    def get(self, endpoint_id: uuid.UUID):
        """Get a webhook endpoint (without its secret)"""
        return endpoints.get_endpoint(
            session=db.session, operator_id=current_identity().operator_id, endpoint_id=endpoint_id
        )

    @blp.arguments(EndpointUpdateSchema)
    @blp.response(200, EndpointSchema)
    def patch(self, changes, endpoint_id: uuid.UUID):
        """Update a webhook endpoint's url, events, description or isActive"""
        with db.unit_of_work() as session:
            return endpoints.update_endpoint(
                session=session,
                operator_id=current_identity().operator_id,
                endpoint_id=endpoint_id,
                changes=changes,
                prod=_prod(),
            )

    @blp.response(204)
    def delete(self, endpoint_id: uuid.UUID):
        """Delete a webhook endpoint and its deliveries"""
        with db.unit_of_work() as session:
            endpoints.delete_endpoint(
                session=session, operator_id=current_identity().operator_id, endpoint_id=endpoint_id
            )


@blp.route("/<uuid:endpoint_id>/deliveries")
class WebhookEndpointDeliveries(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(DeliveryQueryArgsSchema, location="query")
    @blp.response(200, DeliverySchema(many=True))
    def get(self, args, endpoint_id: uuid.UUID):
        """List the endpoint's delivery attempts, newest first"""
        with db.reading() as reader:
            return deliveries.list_deliveries(
                session=reader, operator_id=current_identity().operator_id, endpoint_id=endpoint_id, **args
            )
