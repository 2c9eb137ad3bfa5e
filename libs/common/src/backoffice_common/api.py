"""flask-smorest base classes, subclassed once here (style guide): the Api with
our error shape, the Blueprint, and a camelCase Schema that refuses unknown fields."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import flask_smorest
import marshmallow as ma
from marshmallow.decorators import POST_DUMP, PRE_DUMP

from .errors import http_exception_body


class Api(flask_smorest.Api):
    def handle_http_exception(self, error):
        body, headers = http_exception_body(error)
        return body, error.code, headers


class Blueprint(flask_smorest.Blueprint):
    def arguments(self, schema, *args, **kwargs):
        """flask-smorest's, with a schema class made an instance once, here: webargs builds a new instance of a
        class on every request (every field deep-copied), a tenth of a millisecond a request. A schema keeps no
        state of its own between loads, so one instance serves every request and thread."""
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, *args, **kwargs)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


UNSTORABLE_TEXT = "Must not contain NUL or unpaired surrogate characters."
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def _holds_unstorable_text(value) -> bool:
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, Mapping):
        return any(_holds_unstorable_text(key) or _holds_unstorable_text(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(_holds_unstorable_text(item) for item in value)
    return False


class Schema(ma.Schema):
    """Python attributes in snake_case, JSON in the contract's camelCase.

    marshmallow's default ``unknown=RAISE`` refuses unknown fields (no mass assignment).

    Dumping takes a shorter path than marshmallow's own for the plain field types (strings, numbers,
    booleans, UUIDs, our UTC date-times, lists and nested schemas): the same output, computed once per
    field instead of through marshmallow's per-value machinery, which was most of the time a list of
    1,000 projects took. Any other field, a field with a ``dump_default``, a dotted attribute or a
    schema that overrides ``get_attribute`` goes through marshmallow unchanged; ``pre_dump`` and
    ``post_dump`` hooks still run (``dump`` calls this ``_serialize``).
    """

    @ma.pre_load
    def _refuse_unstorable_text(self, data, **kwargs):
        """PostgreSQL text holds neither NUL nor a lone UTF-16 surrogate, yet JSON can say both ("\\u0000",
        "\\ud800"): such a string reaching the database was a 500. Refused here as a 422 on its field, for every
        field of every schema (found by fuzzing the API)."""
        if isinstance(data, Mapping):
            errors = {key: [UNSTORABLE_TEXT] for key, value in data.items() if _holds_unstorable_text(value)}
            if errors:
                raise ma.ValidationError(errors)
        return data

    def on_bind_field(self, field_name, field_obj):
        field_obj.data_key = _camel(field_obj.data_key or field_name)

    def _serialize(self, obj, *, many: bool = False):
        # Cached with the field set it was built for: a copy narrowed by Nested(only=/exclude=) gets its own.
        cached = self.__dict__.get("_dump_plan")
        if cached is None or cached[0] is not self.dump_fields:
            cached = self.__dict__["_dump_plan"] = (self.dump_fields, _dump_plan(self))
        plan = cached[1]
        if many and obj is not None:
            return [plan(item) for item in obj]
        return plan(obj)


_MISSING = ma.missing


def _value_converter(field: ma.fields.Field):
    """A function of a non-None value giving what ``field._serialize`` would, or None when there is none."""
    kind = type(field)
    if (
        kind.get_value is not ma.fields.Field.get_value
        or kind.serialize is not ma.fields.Field.serialize
        or not field._CHECK_ATTRIBUTE
    ):
        return None  # a field that fetches or serializes its own way: marshmallow's path
    serialize = kind._serialize
    if serialize in (ma.fields.String._serialize, ma.fields.UUID._serialize):
        return str if serialize is ma.fields.UUID._serialize else ma.utils.ensure_text_type
    if isinstance(field, ma.fields.Number) and serialize is ma.fields.Number._serialize and not field.as_string:
        return field._format_num
    if serialize is ma.fields.Boolean._serialize:
        return lambda value: value if value is True or value is False else field._serialize(value, None, None)
    if serialize is UtcDateTime._serialize:
        return utc_text  # (a converter only sees values that are not None)
    if isinstance(field, ma.fields.Nested):
        nested = field.schema
        if (
            serialize is ma.fields.Nested._serialize
            and isinstance(nested, Schema)
            and not nested._hooks[PRE_DUMP]
            and not nested._hooks[POST_DUMP]
        ):
            # What Nested._serialize → Schema.dump come to for one of ours without dump hooks.
            dump, many = nested._serialize, bool(nested.many or field.many)
            return lambda value: dump(value, many=many)
        return lambda value: field._serialize(value, None, None)
    if isinstance(field, ma.fields.List) and serialize is ma.fields.List._serialize:
        inner = _value_converter(field.inner)
        if inner is None:
            return None
        return lambda values: [None if value is None else inner(value) for value in values]
    return None


def _dump_plan(schema: ma.Schema):
    """The schema's dump of one object, as a closure over (output key, attribute, converter) steps."""
    generic_accessor = type(schema).get_attribute is not ma.Schema.get_attribute
    steps = []
    for name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else name
        attribute = field.attribute or name
        convert = None if generic_accessor else _value_converter(field)
        if field.dump_default is not _MISSING or "." in attribute:
            convert = None
        steps.append((key, attribute, convert, name, field))
    accessor = schema.get_attribute

    def dump_one(obj):
        out = {}
        # marshmallow's lookup, minus its generality: a mapping's key, else an attribute. (Its own tries
        # ``obj[key]`` on anything with __getitem__ first — a SQLAlchemy Row, say — and falls back to the
        # attribute after a TypeError: most of a list's dump time.)
        mapping = type(obj) is dict or isinstance(obj, Mapping)
        for key, attribute, convert, name, field in steps:
            if convert is None:
                value = field.serialize(name, obj, accessor=accessor)
            else:
                if mapping:
                    value = obj[attribute] if attribute in obj else getattr(obj, attribute, _MISSING)
                else:
                    value = getattr(obj, attribute, _MISSING)
                if value is not None and value is not _MISSING:
                    value = convert(value)
            if value is not _MISSING:
                out[key] = value
        return out

    return dump_one


def utc_text(value: dt.datetime) -> str:
    """A moment as every answer writes it (design §3): UTC with milliseconds and ``Z``."""
    # isoformat is C code: "…T12:00:00.123+00:00" → "…T12:00:00.123Z"
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


class UtcDateTime(ma.fields.AwareDateTime):
    """Input must carry an offset (naive → 422); output is UTC with milliseconds and ``Z``."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else utc_text(value)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).astimezone(dt.UTC)


class Email(ma.fields.Email):
    """Trimmed and lower-cased before validation (design §2)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip().lower()
        return super()._deserialize(value, attr, data, **kwargs)
