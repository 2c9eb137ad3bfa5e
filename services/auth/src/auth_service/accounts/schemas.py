from marshmallow import fields, validate

from auth_service.accounts.tokens import issue_access_token
from auth_service.config import Settings
from backoffice_common.api import Email, Schema
from backoffice_common.service import dependency
from backoffice_common.validators import iana_timezone

Name = lambda: fields.String(required=True, validate=validate.Length(1, 200))  # noqa: E731
Password = lambda: fields.String(required=True, load_only=True, validate=validate.Length(8, 128))  # noqa: E731


class RegisterSchema(Schema):
    name = Name()
    email = Email(required=True)
    password = Password()
    timezone = fields.String(allow_none=True, validate=iana_timezone)  # null or absent: UTC


class LoginSchema(Schema):
    # No account's email is longer (accounts.email), and the login brake stores the email it counts attempts for.
    email = Email(required=True, validate=validate.Length(max=320))
    # Not length-checked against the policy: a wrong password is a 401, not a hint. Capped to bound hashing work.
    password = fields.String(required=True, load_only=True, validate=validate.Length(1, 1024))


class TokenSchema(Schema):
    """The answer to register and login: an access token for the account the rule returns (signed here, where the
    response is shaped: the rules only decide whose it is)."""

    token = fields.Method("_sign", required=True, metadata={"type": "string"})

    def _sign(self, account) -> str:
        return issue_access_token(account, key_id=dependency(Settings).jwt_key_id).token


class PhotographerCreateSchema(Schema):
    name = Name()
    email = Email(required=True)
    password = Password()
