"""JSON logs carrying the request id, and the request-id middleware.

The gateway sets ``X-Request-ID``; a service called directly makes one up.
It is echoed back, forwarded on internal calls, and stamped on every log line.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

import orjson
from flask import Flask, g, has_request_context, request

from .jsonfast import JsonLineFormatter, log_time

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class _ContextFilter(logging.Filter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record):
        record.service = self.service
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


class _JsonLines(logging.StreamHandler):
    """The one handler configure_logging installs: JSON lines on stderr, stamped with service and request id."""

    def __init__(self, service: str):
        super().__init__(sys.stderr)
        self.service = service
        self.setFormatter(JsonLineFormatter())
        self.addFilter(_ContextFilter(service))


def configure_logging(service: str, level: str = "INFO") -> None:
    # Our lines carry none of the thread, process or caller fields, so the record needn't compute them: the
    # logging HOWTO's "Optimization" switches (a record is written for every request).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None
    handler = _JsonLines(service)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def init_request_id(app: Flask) -> None:
    access = logging.getLogger("access")

    @app.before_request
    def _assign_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _echo_request_id(response):
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
            if access.isEnabledFor(logging.INFO):
                fields = {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 2),
                }
                handler = _sole_handler(access)
                if handler is None:
                    access.info("request", extra=fields)
                else:
                    _write_access_line(handler, fields)
        return response


def _sole_handler(access: logging.Logger) -> _JsonLines | None:
    """Our handler, when nothing but it would see the access line (no other handler, filter or level in the way)."""
    root = logging.root
    if access.handlers or access.filters or not access.propagate or root.filters or len(root.handlers) != 1:
        return None
    handler = root.handlers[0]
    if type(handler) is not _JsonLines or handler.level > logging.INFO or len(handler.filters) != 1:
        return None
    return handler


def _write_access_line(handler: _JsonLines, fields: dict) -> None:
    """The line ``access.info("request", extra=fields)`` writes, without building a LogRecord: the per-request line
    cost more than the rest of a one-row request's logging machinery put together."""
    line = orjson.dumps(
        {
            "time": log_time(time.time()),
            "level": "INFO",
            "logger": "access",
            "message": "request",
            "service": handler.service,
            "request_id": g.get("request_id"),
            **fields,
        }
    )
    handler.acquire()
    try:
        handler.stream.write(line.decode() + handler.terminator)
        handler.flush()
    except Exception:  # noqa: S110 - as logging does: a failed log line never fails the request
        pass
    finally:
        handler.release()
