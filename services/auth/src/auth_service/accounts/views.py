from flask.views import MethodView

from auth_service.accounts import rules
from auth_service.accounts.login_brake import LoginBrake
from auth_service.accounts.passwords import Passwords
from auth_service.accounts.schemas import LoginSchema, PhotographerCreateSchema, RegisterSchema, TokenSchema
from auth_service.clients.projects import ProjectsClient
from auth_service.photographers.schemas import PhotographerSchema
from backoffice_common.api import Blueprint
from backoffice_common.clock import utcnow
from backoffice_common.db import db
from backoffice_common.service import dependency
from backoffice_common.tokens import OPERATOR, current_identity, roles_required

blp = Blueprint("auth", __name__, url_prefix="/v1/auth", description="Registration and login.")


@blp.route("/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(409, description="Email already registered.")
    def post(self, body):
        """Register an operator account"""
        with db.unit_of_work() as session:
            return rules.register_operator(session=session, passwords=dependency(Passwords), **body)


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Invalid email or password.")
    @blp.alt_response(429, description="Too many failed logins for this email; see Retry-After.")
    def post(self, body):
        """Log in as an operator or photographer"""
        return rules.log_in(
            unit_of_work=db.unit_of_work,
            passwords=dependency(Passwords),
            brake=dependency(LoginBrake),
            now=utcnow(),
            **body,
        )


@blp.route("/register-photographer")
class RegisterPhotographer(MethodView):
    decorators = [roles_required(OPERATOR)]

    @blp.arguments(PhotographerCreateSchema)
    @blp.response(201, PhotographerSchema)
    @blp.alt_response(409, description="Email already registered.")
    @blp.alt_response(503, description="The projects service is unavailable; nothing was created.")
    def post(self, body):
        """Register a photographer under the calling operator"""
        with db.unit_of_work() as session:
            return rules.register_photographer(
                session=session,
                passwords=dependency(Passwords),
                projects=dependency(ProjectsClient),
                operator_id=current_identity().operator_id,
                **body,
            )
