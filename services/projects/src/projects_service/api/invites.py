import datetime as dt
import uuid

from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.tokens import OPERATOR, current_identity, roles_required
from flask import current_app
from flask.views import MethodView

from projects_service.schemas import BulkInviteResultSchema, BulkInviteSchema, InviteSchema
from projects_service.services import invites

blp = Blueprint("invites", __name__, url_prefix="/v1/projects", description="Invitations to a project.")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@blp.route("/<uuid:project_id>/invites")
class Invites(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(200, InviteSchema(many=True))
    def get(self, project_id: uuid.UUID):
        """List a project's invites with each invitee's registration status"""
        return invites.list_invites(session=db.session, auth=current_app.extensions["auth_client"],
                                    operator_id=current_identity().operator_id, project_id=project_id, now=_now())


@blp.route("/<uuid:project_id>/invites/bulk")
class BulkInvites(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(BulkInviteSchema)
    @blp.response(202, BulkInviteResultSchema)
    @blp.alt_response(409, description="The project is closed or archived.")
    @blp.alt_response(429, description="The operator's daily invite quota would be passed; nothing was queued "
                                       "(Retry-After: seconds until it resets at midnight UTC).")
    def post(self, body, project_id: uuid.UUID):
        """Invite a list of emails (sent in the background)"""
        settings = current_app.extensions["settings"]
        with db.unit_of_work() as session:
            return invites.bulk_invite(session=session, operator_id=current_identity().operator_id,
                                       project_id=project_id, emails=body["emails"],
                                       ttl=dt.timedelta(days=settings.invite_ttl_days), now=_now(),
                                       daily_quota=settings.invite_daily_quota)
