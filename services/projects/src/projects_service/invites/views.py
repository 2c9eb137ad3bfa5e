import datetime as dt
import uuid

from flask.views import MethodView

from backoffice_common.api import Blueprint
from backoffice_common.clock import utcnow
from backoffice_common.db import db
from backoffice_common.service import dependency
from backoffice_common.tokens import OPERATOR, current_identity, roles_required
from projects_service.clients.auth import AuthClient
from projects_service.config import Settings
from projects_service.invites import rules
from projects_service.invites.schemas import BulkInviteResultSchema, BulkInviteSchema, InviteSchema

blp = Blueprint("invites", __name__, url_prefix="/v1/projects", description="Invitations to a project.")


@blp.route("/<uuid:project_id>/invites")
class Invites(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.response(200, InviteSchema(many=True))
    def get(self, project_id: uuid.UUID):
        """List a project's invites with each invitee's registration status"""
        return rules.list_invites(
            session=db.session,
            auth=dependency(AuthClient),
            operator_id=current_identity().operator_id,
            project_id=project_id,
            now=utcnow(),
        )


@blp.route("/<uuid:project_id>/invites/bulk")
class BulkInvites(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(BulkInviteSchema)
    @blp.response(202, BulkInviteResultSchema)
    @blp.alt_response(409, description="The project is closed or archived.")
    @blp.alt_response(
        429,
        description="The operator's daily invite quota would be passed; nothing was queued "
        "(Retry-After: seconds until it resets at midnight UTC).",
    )
    def post(self, body, project_id: uuid.UUID):
        """Invite a list of emails (sent in the background)"""
        settings = dependency(Settings)
        with db.unit_of_work() as session:
            return rules.bulk_invite(
                session=session,
                operator_id=current_identity().operator_id,
                project_id=project_id,
                emails=body["emails"],
                ttl=dt.timedelta(days=settings.invite_ttl_days),
                now=utcnow(),
                daily_quota=settings.invite_daily_quota,
            )
