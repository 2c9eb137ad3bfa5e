"""Every request writes one JSON access line with its request id — the same line whichever way it is written."""

import io
import json
import logging

import pytest

from backoffice_common import logs
from backoffice_common.service import create_service_app


@pytest.fixture
def app_and_stream(probe_settings):
    settings = probe_settings()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    app, _api = create_service_app(__name__, settings, title="probe")  # configures logging: our handler alone
    ours = root.handlers[0]
    stream = ours.stream = io.StringIO()
    app.ours = ours
    yield app, stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def _lines(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_short_way_writes_what_logging_writes(app_and_stream, monkeypatch):
    app, stream = app_and_stream
    client = app.test_client()
    root = logging.getLogger()
    direct_writes = []
    monkeypatch.setattr(
        logs, "_write_access_line", lambda *a, original=logs._write_access_line: (direct_writes.append(1), original(*a))
    )
    other = logging.StreamHandler(io.StringIO())
    test_handlers = root.handlers[:]  # pytest's own capture handlers, besides ours
    try:
        root.handlers[:] = [app.ours]
        client.get("/healthz", headers={"X-Request-ID": "req-1"})  # our handler alone: the direct write
        root.handlers[:] = [app.ours, other]
        client.get("/healthz", headers={"X-Request-ID": "req-2"})  # someone else listens too: through logging
    finally:
        root.handlers[:] = test_handlers
    assert direct_writes == [1]
    direct, logged = _lines(stream)
    assert (
        set(direct)
        == set(logged)
        == {"time", "level", "logger", "message", "service", "request_id", "method", "path", "status", "duration_ms"}
    )
    for entry, request_id in ((direct, "req-1"), (logged, "req-2")):
        assert entry["request_id"] == request_id and entry["service"] == "probe"
        assert (entry["level"], entry["logger"], entry["message"]) == ("INFO", "access", "request")
        assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/healthz", 200)
        assert len(entry["time"]) == 23 and entry["time"][19] == ","
    assert other.stream.getvalue().count("request") == 1


def test_no_access_line_above_info(app_and_stream):
    app, stream = app_and_stream
    root = logging.getLogger()
    test_handlers = root.handlers[:]
    logging.getLogger("access").setLevel(logging.WARNING)
    try:
        root.handlers[:] = [app.ours]
        app.test_client().get("/healthz")
    finally:
        logging.getLogger("access").setLevel(logging.NOTSET)
        root.handlers[:] = test_handlers
    assert stream.getvalue() == ""
