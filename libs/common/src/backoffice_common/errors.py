"""Domain errors that carry their HTTP status, and the one error shape (design §3).

Domain code raises these; one handler turns every failure — ours, Werkzeug's,
webargs', flask-jwt-extended's, the database's, or an uncaught bug — into
``{"code", "status", "message", "errors"}``. Views never build error bodies.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, jsonify
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, MethodNotAllowed

log = logging.getLogger(__name__)


class DomainError(Exception):
    status_code = 400
    default_message = "Bad request."

    def __init__(self, message: str | None = None, *, errors: dict | None = None, headers: dict | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.errors = errors or {}
        self.headers = headers or {}


class Unauthorized(DomainError):
    status_code = 401
    default_message = "Missing or invalid credentials."


class Forbidden(DomainError):
    status_code = 403
    default_message = "You are not allowed to do this."


class NotFound(DomainError):
    status_code = 404
    default_message = "Not found."


class Conflict(DomainError):
    status_code = 409
    default_message = "Conflict with the current state."


class Unprocessable(DomainError):
    status_code = 422
    default_message = "The request is invalid."


class TooManyRequests(DomainError):
    """Raise with ``headers={"Retry-After": seconds}`` so a client knows when to come back."""

    status_code = 429
    default_message = "Too many requests; try again later."


class ServiceUnavailable(DomainError):
    status_code = 503
    default_message = "A dependency is unavailable; try again shortly."


def field_error(
    field: str,
    message: str,
    *,
    error: type[DomainError] = Unprocessable,
    location: str = "json",
    summary: str | None = None,
) -> DomainError:
    """A domain error about one input field, in the per-field shape ``{location: {field: [message]}}``.

    ``error`` picks the status (a 409 about a taken email is still about the ``email`` field); ``summary`` is the
    top-level message when it should differ from the field's own.
    """
    return error(summary or message, errors={location: {field: [message]}})


def field_errors(messages: dict[str, list[str]], *, location: str = "json") -> Unprocessable:
    """A 422 about several input fields at once (a rule that checks fields together), in the shape schema errors
    have: ``{location: {field: [message, …]}}``."""
    return Unprocessable("The request is invalid.", errors={location: messages})


def error_body(code: int, message: str, errors: dict | None = None) -> dict:
    return {"code": code, "status": HTTPStatus(code).phrase, "message": message, "errors": errors or {}}


def error_response(code: int, message: str, errors: dict | None = None, headers: dict | None = None):
    response = jsonify(error_body(code, message, errors))
    response.status_code = code
    response.headers.update(headers or {})
    return response


def http_exception_body(error: HTTPException) -> tuple[dict, dict]:
    """Body and headers for a Werkzeug/webargs HTTPException (webargs stores details in ``data``)."""
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages") or {}
    code = error.code or 500  # (every Werkzeug error has its code; only a bare HTTPException has none)
    description = error.description or HTTPStatus(code).phrase
    message = data.get("message") or {
        400: "The request body is not valid JSON." if errors.get("json") == ["Invalid JSON body."] else description,
        422: "The request is invalid.",
    }.get(code, description)
    headers = dict(data.get("headers") or {})
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return error_body(code, message, errors), headers


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        return error_response(error.status_code, error.message, error.errors, error.headers)

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def _database_down(error):
        # Connection refused, timeouts, statement_timeout: the database is the dependency that failed.
        log.warning("database unavailable: %s", str(error).splitlines()[0])
        return error_response(503, "The database is unavailable; try again shortly.")

    @app.errorhandler(DBAPIError)
    def _database_error(error: DBAPIError):
        if error.connection_invalidated:
            log.warning("database connection lost: %s", str(error).splitlines()[0])
            return error_response(503, "The database is unavailable; try again shortly.")
        log.exception("database error")
        return error_response(500, "Internal server error.")

    @app.errorhandler(Exception)
    def _uncaught(error: Exception):
        if isinstance(error, HTTPException):
            body, headers = http_exception_body(error)
            return error_response(body["code"], body["message"], body["errors"], headers)
        log.exception("unhandled error")
        return error_response(500, "Internal server error.")
