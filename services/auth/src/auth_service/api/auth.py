import datetime as dt

from backoffice_common.api import Blueprint
from backoffice_common.db import db
from backoffice_common.tokens import OPERATOR, current_identity, roles_required
from flask import current_app
from flask.views import MethodView

from auth_service.clients.projects import projects_client
from auth_service.schemas import LoginSchema, PhotographerCreateSchema, PhotographerSchema, RegisterSchema, TokenSchema
from auth_service.services import accounts
from auth_service.services.tokens import issue_access_token

blp = Blueprint("auth", __name__, url_prefix="/v1/auth", description="Registration and login.")


def _passwords():
    return current_app.extensions["passwords"]


def _token_for(account) -> dict:
    return {"token": issue_access_token(account, key_id=current_app.extensions["settings"].jwt_key_id)}


@blp.route("/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(409, description="Email already registered.")
    def post(self, body):
        """Register an operator account"""
        with db.unit_of_work() as session:
            account = accounts.register_operator(session=session, passwords=_passwords(), **body)
        return _token_for(account)


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Invalid email or password.")
    @blp.alt_response(429, description="Too many failed logins for this email; see Retry-After.")
    def post(self, body):
        """Log in as an operator or photographer"""
        account = accounts.log_in(unit_of_work=db.unit_of_work, passwords=_passwords(),
                                  brake=current_app.extensions["login_brake"],
                                  now=dt.datetime.now(dt.timezone.utc), **body)
        return _token_for(account)


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
            return accounts.register_photographer(
                session=session, passwords=_passwords(), projects=projects_client(),
                operator_id=current_identity().operator_id, **body)
