"""``/healthz`` (the process is alive) and ``/readyz`` (its database answers)."""

from flask import Blueprint

from .db import db
from .errors import error_response

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz():
    return {"status": "ok"}


@health.get("/readyz")
def readyz():
    try:
        db.ping()
    except Exception:  # any failure to reach the database means "not ready"
        return error_response(503, "The database is unavailable.")
    return {"status": "ready"}
