"""orjson behind Flask's JSON provider gives what Flask's own provider gave; log records are JSON lines."""

import dataclasses
import datetime as dt
import decimal
import io
import json
import logging
import uuid

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from hypothesis import given
from hypothesis import strategies as st

from backoffice_common.jsonfast import JsonLineFormatter, OrjsonProvider


@dataclasses.dataclass
class Point:
    x: int
    label: str


@pytest.fixture(scope="module")
def providers():
    app = Flask(__name__)
    return OrjsonProvider(app), DefaultJSONProvider(app), app


VALUES = {
    "plain": {"b": 1, "a": [1.5, None, True, "x"], "c": {"z": 0, "y": -3}},
    "unicode": {"name": "Zoë – 東京", "emoji": "📷"},
    "datetime": {"at": dt.datetime(2026, 4, 8, 12, 0, 1, 123000, tzinfo=dt.UTC)},
    "date": {"on": dt.date(2026, 4, 8)},
    "uuid": {"id": uuid.UUID("7d0f5f9e-3a43-4f65-9a37-1c1f4d8a9a10")},
    "decimal": {"amount": decimal.Decimal("12.50")},
    "dataclass": {"point": Point(3, "p")},
    "big int": {"n": 2**80},
    "int keys": {1: "a", 2: "b"},
    "top-level list": [{"b": 2, "a": 1}],
}


@pytest.mark.parametrize("case", sorted(VALUES))
def test_same_json_as_flask(providers, case):
    fast, default, _app = providers
    assert json.loads(fast.dumps(VALUES[case])) == json.loads(default.dumps(VALUES[case]))


def test_keys_sorted_and_compact_like_flask(providers):
    fast, default, app = providers
    value = {"b": 1, "a": {"d": 2, "c": [1, 2]}}
    with app.app_context():
        assert (
            fast.response(value).get_data()
            == default.response(value).get_data()
            == (b'{"a":{"c":[1,2],"d":2},"b":1}\n')
        )
    assert fast.response(value).mimetype == "application/json"


def test_unserializable_still_fails(providers):
    fast, _default, _app = providers
    with pytest.raises(TypeError):
        fast.dumps({"x": object()})


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False, allow_infinity=False),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=20,
    )
)
def test_any_json_value_round_trips_like_flask(value):
    app = Flask(__name__)
    fast, default = OrjsonProvider(app), DefaultJSONProvider(app)
    assert json.loads(fast.dumps(value)) == json.loads(default.dumps(value))
    assert fast.loads(default.dumps(value)) == default.loads(default.dumps(value))


@pytest.mark.parametrize("text", ["-9223372036854775809", "18446744073709551616", '{"n": [123456789012345678901]}'])
def test_integers_beyond_64_bits_stay_exact(providers, text):
    fast, default, _app = providers
    assert fast.loads(text) == default.loads(text) and fast.loads(text.encode()) == default.loads(text)


def test_loads_accepts_what_the_standard_library_did(providers):
    fast, _default, _app = providers
    assert fast.loads(b'{"a": 1}') == {"a": 1}
    assert str(fast.loads('{"x": NaN}')["x"]) == "nan"  # orjson refuses NaN; the standard library reads it
    with pytest.raises(ValueError):
        fast.loads("{oops")


def _line(record_call) -> dict:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLineFormatter())
    logger = logging.getLogger(f"probe-{uuid.uuid4().hex}")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    record_call(logger)
    return json.loads(stream.getvalue())


def test_log_lines_carry_the_fields_and_extras():
    entry = _line(
        lambda log: log.info(
            "hello %s", "you", extra={"status": 200, "at": dt.date(2026, 1, 2), "service": "auth", "request_id": "r1"}
        )
    )
    assert entry["message"] == "hello you" and entry["level"] == "INFO"
    assert entry["service"] == "auth" and entry["request_id"] == "r1"
    assert entry["status"] == 200 and entry["at"] == "2026-01-02"
    assert set(entry) == {"time", "level", "logger", "message", "service", "request_id", "status", "at"}


def test_log_lines_carry_the_traceback():
    def fail(log):
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("it failed", extra={"thing": object()})

    entry = _line(fail)
    assert entry["message"] == "it failed" and entry["level"] == "ERROR"
    assert "RuntimeError: boom" in entry["exc_info"] and entry["thing"].startswith("<object")
