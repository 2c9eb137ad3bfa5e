from marshmallow import ValidationError, fields, validate

from auth_service.operators.rules import COUNTRIES, CURRENCIES, parse_locale
from backoffice_common.api import Schema, UtcDateTime
from backoffice_common.validators import iana_timezone


def _one_of(values: frozenset, what: str):
    def check(value):
        if value not in values:
            raise ValidationError(f"Must be {what}.")

    return check


def _locale(value):
    if parse_locale(value) is None:
        raise ValidationError("Must be a BCP 47 language tag, such as en or fr-CA.")


class AddressSchema(Schema):
    line1 = fields.String(required=True, validate=validate.Length(1, 200))
    line2 = fields.String(allow_none=True, validate=validate.Length(max=200))
    city = fields.String(required=True, validate=validate.Length(1, 100))
    region = fields.String(allow_none=True, validate=validate.Length(max=100))
    postal_code = fields.String(allow_none=True, validate=validate.Length(max=20))
    country = fields.String(required=True, validate=_one_of(COUNTRIES, "an ISO 3166-1 alpha-2 country code"))


class OperatorSchema(Schema):
    """The operator's account and profile fields, from the one row ``read_operator`` reads (the fast dump)."""

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


_ACCOUNT_FIELDS = frozenset({"id", "name", "email", "created_at", "updated_at"})


class OperatorAccountSchema(OperatorSchema):
    """The same fields, from an ``Account`` and its profile (what a PATCH has in hand after writing)."""

    def get_attribute(self, obj, attr, default):
        return super().get_attribute(obj if attr in _ACCOUNT_FIELDS else obj.profile, attr, default)


class OperatorUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(1, 200))
    address = fields.Nested(AddressSchema, allow_none=True)
    billing_address = fields.Nested(AddressSchema, allow_none=True)
    currency = fields.String(validate=_one_of(CURRENCIES, "an ISO 4217 currency code, such as EUR"))
    locale = fields.String(validate=_locale)
    timezone = fields.String(validate=iana_timezone)
    profile_picture_url = fields.Url(allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=2048))


class OperatorCardSchema(Schema):
    """What other services need of an operator (an invite email's sender name and time zone; the currency
    commerce charges in)."""

    id = fields.UUID()
    name = fields.String()
    timezone = fields.String()
    currency = fields.String()
