"""flask-smorest base classes, subclassed once here (style guide): the Api with
our error shape, the Blueprint, and a camelCase Schema that refuses unknown fields."""
from __future__ import annotations

import datetime as dt

import flask_smorest
import marshmallow as ma

from .errors import http_exception_body


class Api(flask_smorest.Api):
    def handle_http_exception(self, error):
        body, headers = http_exception_body(error)
        return body, error.code, headers


class Blueprint(flask_smorest.Blueprint):
    pass


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class Schema(ma.Schema):
    """Python attributes in snake_case, JSON in the contract's camelCase.

    marshmallow's default ``unknown=RAISE`` refuses unknown fields (no mass assignment).
    """

    def on_bind_field(self, field_name, field_obj):
        field_obj.data_key = _camel(field_obj.data_key or field_name)


class UtcDateTime(ma.fields.AwareDateTime):
    """Input must carry an offset (naive → 422); output is UTC with milliseconds and ``Z``."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        value = value.astimezone(dt.timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).astimezone(dt.timezone.utc)


class Email(ma.fields.Email):
    """Trimmed and lower-cased before validation (design §2)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip().lower()
        return super()._deserialize(value, attr, data, **kwargs)
