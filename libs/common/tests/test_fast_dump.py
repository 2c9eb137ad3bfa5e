"""Our Schema's shorter dump path gives exactly marshmallow's own output, whatever the field and the object."""

import datetime as dt
import decimal
import uuid
from collections import OrderedDict
from types import SimpleNamespace
from unittest import mock

import marshmallow as ma
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice_common import api
from backoffice_common.api import Schema, UtcDateTime


class Ref(Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()


class Everything(Schema):
    id = ma.fields.UUID()
    name = ma.fields.String()
    count = ma.fields.Integer()
    ratio = ma.fields.Float()
    amount = ma.fields.Decimal(as_string=True)
    active = ma.fields.Boolean()
    created_at = UtcDateTime()
    owner = ma.fields.Nested(Ref, allow_none=True)
    refs = ma.fields.List(ma.fields.Nested(Ref))
    tags = ma.fields.List(ma.fields.String())
    ids = ma.fields.List(ma.fields.UUID())
    meta = ma.fields.Dict()
    renamed = ma.fields.String(attribute="other_name")
    nested_attr = ma.fields.String(attribute="owner.name")
    with_default = ma.fields.Integer(dump_default=7)
    computed = ma.fields.Method("compute")
    secret = ma.fields.String(load_only=True)

    def compute(self, obj):
        return "computed"


def marshmallows_own(schema_class, obj, many=False, **options):
    """What marshmallow itself makes of it: a fresh schema with our shorter path switched off everywhere
    (nested schemas included), so the reference never runs through the code under test."""
    with mock.patch.object(api.Schema, "_serialize", ma.Schema._serialize):
        return schema_class(**options).dump(obj, many=many)


texts = st.one_of(st.none(), st.text(max_size=5))
uuids = st.one_of(st.none(), st.uuids())
ref = st.fixed_dictionaries({"id": st.uuids(), "name": st.text(max_size=3)})
moments = st.one_of(
    st.none(),
    st.datetimes(
        min_value=dt.datetime(2, 1, 1),  # UTC of year 1 at +02:00 underflows
        timezones=st.just(dt.timezone(dt.timedelta(hours=2))),
    ),
)
record = st.fixed_dictionaries(
    {},
    optional={
        "id": uuids,
        "name": texts,
        "count": st.one_of(st.none(), st.integers()),
        "ratio": st.floats(allow_nan=False),
        "amount": st.decimals(allow_nan=False, allow_infinity=False, places=2),
        "active": st.one_of(st.none(), st.booleans(), st.sampled_from(["true", "off", 0, 1, "maybe"])),
        "created_at": moments,
        "owner": st.one_of(st.none(), ref),
        "refs": st.lists(ref, max_size=3),
        "tags": st.lists(texts, max_size=3),
        "ids": st.lists(uuids, max_size=3),
        "meta": st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
        "other_name": texts,
        "with_default": st.integers(),
        "secret": texts,
    },
)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=200)
@given(st.lists(record, max_size=3))
def test_dicts_dump_as_marshmallow_dumps_them(records):
    schema = Everything()
    assert schema.dump(records, many=True) == marshmallows_own(Everything, records, many=True)
    for item in records:
        assert schema.dump(item) == marshmallows_own(Everything, item)


@given(record)
def test_objects_dump_as_marshmallow_dumps_them(item):
    obj = SimpleNamespace(**item)
    assert Everything().dump(obj) == marshmallows_own(Everything, obj)


@given(record)
def test_sqlalchemy_rows_dump_as_marshmallow_dumps_them(item):
    """Plain rows (what list queries return): a sequence with attributes, not a mapping."""
    from sqlalchemy import Row
    from sqlalchemy.engine.result import SimpleResultMetaData

    item = {"count": 0, **item}  # a query selects its columns: none falls back to Row's own count()
    row = Row(
        SimpleResultMetaData(list(item)), None, SimpleResultMetaData(list(item))._key_to_index, tuple(item.values())
    )
    assert Everything().dump(row) == marshmallows_own(Everything, row)


def test_camel_case_keys_missing_keys_left_out_and_values_converted():
    when = dt.datetime(2026, 4, 8, 14, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    ident = uuid.UUID(int=1)
    body = Everything().dump(
        {"id": ident, "created_at": when, "count": 3, "owner": None, "amount": decimal.Decimal("1.50")}
    )
    assert body == {
        "id": str(ident),
        "createdAt": "2026-04-08T12:00:00.123Z",
        "count": 3,
        "owner": None,
        "amount": "1.50",
        "withDefault": 7,
        "computed": "computed",
    }


def test_hooks_still_run():
    class Hooked(Schema):
        name = ma.fields.String()

        @ma.post_dump
        def shout(self, data, **kwargs):
            return {**data, "name": data["name"].upper()}

    assert Hooked().dump([{"name": "a"}], many=True) == [{"name": "A"}]


SHARED = Ref()


class Narrowed(Schema):
    """Nested schema instances narrowed by only/exclude, Pluck, a field that fetches its own value, and a
    key named like a dict method."""

    only_id = ma.fields.Nested(SHARED, only=("id",))
    refs_without_name = ma.fields.List(ma.fields.Nested(SHARED, exclude=("name",)))
    plucked = ma.fields.Pluck(Ref, "name")
    custom = type("Custom", (ma.fields.String,), {"get_value": lambda self, obj, attr, **kw: "custom"})()
    items = ma.fields.List(ma.fields.String())


def test_narrowed_and_unusual_fields_dump_as_marshmallow_dumps_them():
    ref = {"id": uuid.UUID(int=1), "name": "n"}
    SHARED.dump(ref)  # the shared instance has dumped (and cached its plan) before the narrowed copies do
    for obj in (
        {"only_id": ref, "refs_without_name": [ref, ref], "plucked": ref, "custom": "x", "items": ["a"]},
        OrderedDict(only_id=ref, plucked=ref, items=["b"]),
        SimpleNamespace(only_id=ref, items=None),
    ):
        assert Narrowed().dump(obj) == marshmallows_own(Narrowed, obj)
    assert Narrowed().dump({"only_id": ref, "items": []})["onlyId"] == {"id": str(ref["id"])}
