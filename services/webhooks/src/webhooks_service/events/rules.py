"""The intake (``POST /internal/events``): an event kept once by its id, and one delivery for every active endpoint
of its operator that wants its type — in one transaction, so an event is never kept without its deliveries."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import orjson
from sqlalchemy import any_, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from backoffice_common.api import utc_text
from webhooks_service.models import Delivery, Endpoint, Event


@dataclass(frozen=True)
class Intake:
    id: str
    deliveries: int  # made now (0 for an event already kept)
    created: bool


def event_body(*, id: str, type: str, created_at: dt.datetime, data: dict) -> str:
    """What every delivery of the event POSTs (design §12), byte for byte."""
    return orjson.dumps({"id": id, "type": type, "createdAt": utc_text(created_at), "data": data}).decode()


def take_event(
    *, session: Session, id: str, type: str, operator_id: uuid.UUID, created_at: dt.datetime, data: dict
) -> Intake:
    """Keep the event and queue its deliveries; an id already kept is a producer's retry: nothing changes."""
    kept = session.execute(
        insert(Event)
        .values(
            id=id,
            type=type,
            operator_id=operator_id,
            created_at=created_at,
            body=event_body(id=id, type=type, created_at=created_at, data=data),
        )
        .on_conflict_do_nothing()
        .returning(Event.id)
    ).first()
    if kept is None:
        return Intake(id=id, deliveries=0, created=False)
    wanted = select(literal(id), Endpoint.id, Endpoint.operator_id).where(
        Endpoint.operator_id == operator_id, Endpoint.is_active, literal(type) == any_(Endpoint.events)
    )
    made = session.execute(
        insert(Delivery).from_select(["event_id", "endpoint_id", "operator_id"], wanted).returning(Delivery.id)
    ).all()
    return Intake(id=id, deliveries=len(made), created=True)
