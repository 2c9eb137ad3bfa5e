import uuid

from flask.views import MethodView

from auth_service.internal import blp
from auth_service.photographers import rules
from auth_service.photographers.schemas import PhotographerSchema, PhotographerUpdateSchema
from backoffice_common.db import db
from backoffice_common.internal import internal_only


@blp.route("/photographers/<uuid:account_id>")
class PhotographerAccount(MethodView):
    """The projects service keeps a photographer's login in step with its roster (design §4)."""

    decorators = [internal_only]

    @blp.arguments(PhotographerUpdateSchema)
    @blp.response(200, PhotographerSchema)
    @blp.alt_response(409, description="Email already registered.")
    def patch(self, changes, account_id: uuid.UUID):
        """Rename or re-email a photographer's login"""
        with db.unit_of_work() as session:
            return rules.update_photographer(session=session, account_id=account_id, changes=changes)

    @blp.response(204)
    def delete(self, account_id: uuid.UUID):
        """Delete a photographer's login (idempotent)"""
        with db.unit_of_work() as session:
            rules.delete_photographer(session=session, account_id=account_id)
