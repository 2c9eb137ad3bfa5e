"""Events for operators' webhooks (design §12), as producers write them into their outbox and relay them to the
webhooks service's intake (``POST /internal/events``).

A producer makes the event — id, type, the moment of the fact, the operator, ``data`` — in the same transaction as
the fact (``outbox_message``), so the event exists exactly when the fact does; its worker relays it (``publish``),
retrying until the intake has it. The id is the producer's, so a relay repeated after a lost answer is the same
event to the intake, which keeps it once.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from .api import utc_text
from .errors import ServiceUnavailable
from .internal import InternalClient

EVENT_TYPES = ("purchase.paid", "purchase.refunded", "member.joined")
OUTBOX_KIND = "webhooks.event"  # the outbox message that carries an event to the webhooks service


def new_event_id() -> str:
    """``evt_`` and 24 random hex characters."""
    return "evt_" + secrets.token_hex(12)


def new_event(event_type: str, *, operator_id: uuid.UUID, data: dict, created_at: dt.datetime) -> dict:
    """The event as it travels to the intake (``data`` already as JSON: what a receiver gets)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    return {
        "id": new_event_id(),
        "type": event_type,
        "createdAt": utc_text(created_at),
        "operatorId": str(operator_id),
        "data": data,
    }


def publish(client: InternalClient, event: dict) -> None:
    """Hand an event to the webhooks service (201 new, 200 already there: both done); raises otherwise, so the
    outbox keeps the message and tries again."""
    response = client.post("/internal/events", json=event)
    if response.status_code not in (200, 201):
        raise ServiceUnavailable(f"The webhooks service refused event {event.get('id')}: {response.status_code}")
