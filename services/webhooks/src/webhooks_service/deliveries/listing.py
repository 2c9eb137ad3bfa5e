"""What an operator sees of an endpoint's deliveries (design §12): every attempt, newest first, and the deliveries
still waiting for their first attempt (``attempt`` 0)."""

from __future__ import annotations

import uuid
from collections import namedtuple

from sqlalchemy import DateTime, Integer, String, bindparam, case, cast, literal, null, select, union_all

from backoffice_common.errors import NotFound
from webhooks_service.models import Delivery, DeliveryAttempt, Endpoint, Event

Listed = namedtuple("Listed", "event_id type attempt status_code error created_at next_attempt_at succeeded_at")

_ATTEMPTS = (
    select(
        Delivery.event_id,
        Event.type,
        DeliveryAttempt.attempt,
        DeliveryAttempt.status_code,
        DeliveryAttempt.error,
        DeliveryAttempt.created_at,
        DeliveryAttempt.next_attempt_at,
        case((DeliveryAttempt.status_code.between(200, 299), DeliveryAttempt.created_at), else_=null()).label(
            "succeeded_at"
        ),
    )
    .select_from(DeliveryAttempt)
    .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
    .join(Event, Event.id == Delivery.event_id)
    .where(DeliveryAttempt.endpoint_id == bindparam("endpoint_id"))
    .order_by(DeliveryAttempt.created_at.desc(), DeliveryAttempt.id.desc())
    .limit(bindparam("limit"))
)
_WAITING = (
    select(
        Delivery.event_id,
        Event.type,
        literal(0, Integer).label("attempt"),
        cast(null(), Integer).label("status_code"),
        cast(null(), String).label("error"),
        Delivery.created_at,
        Delivery.next_attempt_at,
        cast(null(), DateTime(timezone=True)).label("succeeded_at"),
    )
    .join(Event, Event.id == Delivery.event_id)
    .where(Delivery.endpoint_id == bindparam("endpoint_id"), Delivery.attempts == 0, Delivery.status == "pending")
    .order_by(Delivery.created_at.desc(), Delivery.id.desc())
    .limit(bindparam("limit"))
)
_BOTH = union_all(_ATTEMPTS.subquery().select(), _WAITING.subquery().select()).subquery()
_LIST = select(_BOTH).order_by(_BOTH.c.created_at.desc(), _BOTH.c.attempt.desc()).limit(bindparam("limit"))
_OWNER = select(Endpoint.operator_id).where(Endpoint.id == bindparam("endpoint_id"))


def list_deliveries(*, session, operator_id: uuid.UUID, endpoint_id: uuid.UUID, limit: int = 50) -> list[Listed]:
    """Up to ``limit`` attempts (and waiting deliveries) of the operator's endpoint, newest first; 404 when the
    endpoint is unknown or another operator's."""
    if session.scalar(_OWNER, {"endpoint_id": endpoint_id}) != operator_id:
        raise NotFound("Webhook endpoint not found.")
    return [Listed(*row) for row in session.execute(_LIST, {"endpoint_id": endpoint_id, "limit": limit})]
