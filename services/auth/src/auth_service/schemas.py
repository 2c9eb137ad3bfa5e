from backoffice_common.api import Email, Schema, UtcDateTime
from backoffice_common.validators import iana_timezone
from marshmallow import ValidationError, fields, validate

from auth_service.services.profiles import COUNTRIES, CURRENCIES, parse_locale

Name = lambda: fields.String(required=True, validate=validate.Length(1, 200))  # noqa: E731
Password = lambda: fields.String(required=True, load_only=True, validate=validate.Length(8, 128))  # noqa: E731


def _one_of(values: frozenset, what: str):
    def check(value):
        if value not in values:
            raise ValidationError(f"Must be {what}.")
    return check


def _locale(value):
    if parse_locale(value) is None:
        raise ValidationError("Must be a BCP 47 language tag, such as en or fr-CA.")


class RegisterSchema(Schema):
    name = Name()
    email = Email(required=True)
    password = Password()
    timezone = fields.String(allow_none=True, validate=iana_timezone)  # null or absent: UTC


class LoginSchema(Schema):
    # No account's email is longer (accounts.email), and the login brake stores the email it counts failures for.
    email = Email(required=True, validate=validate.Length(max=320))
    # Not length-checked against the policy: a wrong password is a 401, not a hint. Capped to bound hashing work.
    password = fields.String(required=True, load_only=True, validate=validate.Length(1, 1024))


class TokenSchema(Schema):
    token = fields.String(required=True)


class PhotographerCreateSchema(Schema):
    name = Name()
    email = Email(required=True)
    password = Password()


class PhotographerSchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.String()
    email = fields.String()


class AddressSchema(Schema):
    line1 = fields.String(required=True, validate=validate.Length(1, 200))
    line2 = fields.String(allow_none=True, validate=validate.Length(max=200))
    city = fields.String(required=True, validate=validate.Length(1, 100))
    region = fields.String(allow_none=True, validate=validate.Length(max=100))
    postal_code = fields.String(allow_none=True, validate=validate.Length(max=20))
    country = fields.String(required=True, validate=_one_of(COUNTRIES, "an ISO 3166-1 alpha-2 country code"))


class OperatorSchema(Schema):
    id = fields.UUID(dump_only=True)
    name = fields.String()
    email = fields.String()
    address = fields.Nested(AddressSchema, allow_none=True)
    billing_address = fields.Nested(AddressSchema, allow_none=True)
    currency = fields.String()
    locale = fields.String()
    timezone = fields.String()
    profile_picture_url = fields.String(allow_none=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class OperatorUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(1, 200))
    address = fields.Nested(AddressSchema, allow_none=True)
    billing_address = fields.Nested(AddressSchema, allow_none=True)
    currency = fields.String(validate=_one_of(CURRENCIES, "an ISO 4217 currency code, such as EUR"))
    locale = fields.String(validate=_locale)
    timezone = fields.String(validate=iana_timezone)
    profile_picture_url = fields.Url(allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=2048))


class ParticipantCreateSchema(Schema):
    email = Email(required=True)
    name = Name()


class ParticipantSchema(Schema):
    id = fields.UUID(dump_only=True)
    email = fields.String()
    name = fields.String()


class AccountUpdateSchema(Schema):
    """A photographer's name or email changed from the projects service's roster."""

    name = fields.String(validate=validate.Length(1, 200))
    email = Email()


class ParticipantLookupSchema(Schema):
    emails = fields.List(Email(), required=True, validate=validate.Length(max=20_000))


class ParticipantLookupResultSchema(Schema):
    registered = fields.List(fields.String())


class OperatorCardSchema(Schema):
    """What other services need of an operator (an invite email's sender name and time zone; the currency
    commerce charges in)."""

    id = fields.UUID()
    name = fields.String()
    timezone = fields.String()
    currency = fields.String()
