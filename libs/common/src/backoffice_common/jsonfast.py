"""JSON through orjson: Flask's JSON provider, and the one-line-per-record log formatter.

The provider writes what Flask's default one writes — compact, keys sorted, dates as HTTP dates, UUIDs and
decimals as strings, dataclasses as objects — except that text is UTF-8 rather than ``\\u`` escapes (the body
is ``application/json``, UTF-8 by definition). Anything orjson refuses (an integer beyond 64 bits, non-string
keys) and any body orjson can't read goes through the standard library as before, so nothing new fails.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time

import orjson
from flask.json.provider import DefaultJSONProvider

_LONG_DIGITS = re.compile(r"[0-9]{19}")
_LONG_DIGITS_BYTES = re.compile(rb"[0-9]{19}")
_DUMP = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class OrjsonProvider(DefaultJSONProvider):
    def dumps(self, obj, **kwargs) -> str:
        if kwargs:  # indent, separators, ...: only the standard library knows them
            return super().dumps(obj, **kwargs)
        return self._dumps(obj).decode()

    def _dumps(self, obj) -> bytes:
        try:
            return orjson.dumps(obj, default=self.default, option=_DUMP)
        except TypeError:  # orjson.JSONEncodeError: let the standard library answer, or fail as it did
            return super().dumps(obj, separators=(",", ":")).encode()

    def loads(self, s, **kwargs):
        # orjson reads an integer beyond 64 bits as a float (-2**63 - 1 → -9.2e18): a body with 19 digits in a row
        # (the shortest such integer) goes to the standard library, which keeps it exact (found by hypothesis).
        if not kwargs and not (_LONG_DIGITS if isinstance(s, str) else _LONG_DIGITS_BYTES).search(s):
            try:
                return orjson.loads(s)
            except orjson.JSONDecodeError:
                pass  # e.g. NaN, which the standard library reads: decide as before
        return super().loads(s, **kwargs)

    def response(self, *args, **kwargs):
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)
        body = self._dumps(self._prepare_response_obj(args, kwargs)) + b"\n"
        return self._app.response_class(body, mimetype=self.mimetype)


# What every LogRecord carries; anything else on a record came from ``extra=`` and is written out.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "service",
    "request_id",
    "taskName",
}


def _log_default(value):
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def log_time(created: float) -> str:
    """A record's time as logging's default formatTime writes it: local "2026-12-01 22:34:37,844"."""
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(created))},{int((created - int(created)) * 1000):03d}"


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, service, request_id, then any ``extra`` fields,
    and ``exc_info``/``stack_info`` when there are some (the fields python-json-logger wrote for us, at a
    third of its cost: a record is written for every request)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": log_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": getattr(record, "service", None),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES:
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        try:
            return orjson.dumps(entry, default=_log_default).decode()
        except TypeError:
            return json.dumps(entry, default=_log_default)
