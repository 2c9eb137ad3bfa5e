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

from flask import Flask, g, has_request_context, request

from .jsonfast import JsonLineFormatter

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class _ContextFilter(logging.Filter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record):
        record.service = self.service
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    # Our lines carry none of the thread, process or caller fields, so the record needn't compute them: the
    # logging HOWTO's "Optimization" switches (a record is written for every request).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    handler.addFilter(_ContextFilter(service))
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
                access.info("request", extra={
                    "method": request.method, "path": request.path, "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 2),
                })
        return response
