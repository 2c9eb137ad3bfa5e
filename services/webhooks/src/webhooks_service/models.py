"""The webhooks service's tables: operators' endpoints, the events producers hand in, one delivery per (event,
endpoint), and every attempt at a delivery."""

import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backoffice_common.models import Timestamps, naming_metadata

EVENT_TYPES = ("purchase.paid", "purchase.refunded", "member.joined")
DELIVERY_STATUSES = ("pending", "succeeded", "failed")


class Base(DeclarativeBase):
    metadata = naming_metadata()


class Endpoint(Timestamps, Base):
    """An operator's receiver: the URL events are POSTed to, which events, and the secret that signs them (kept as
    is: it must sign every delivery)."""

    __tablename__ = "endpoints"
    __table_args__ = (Index("ix_endpoints_operator_id", "operator_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    operator_id: Mapped[uuid.UUID] = mapped_column()
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    description: Mapped[str | None] = mapped_column(String(500))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    secret: Mapped[str] = mapped_column(String(128))


class Event(Base):
    """An event as a producer handed it in (its id is the producer's: a relay retry is the same event). ``body`` is
    the exact JSON every delivery of it sends, so every attempt signs the same bytes."""

    __tablename__ = "events"
    __table_args__ = (CheckConstraint("type IN ('purchase.paid', 'purchase.refunded', 'member.joined')", name="type"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[uuid.UUID] = mapped_column(index=True)
    type: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))  # the moment of the fact
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    body: Mapped[str] = mapped_column(Text)


class Delivery(Base):
    """One event to one endpoint, until a 2xx (succeeded) or the retry window is over (failed). While pending,
    ``next_attempt_at`` is when it is due; a worker sending it pushes that forward by a lease, so another worker
    does not take it meanwhile and a worker that dies mid-send leaves it to be tried again."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
        # The worker's claim: each endpoint's oldest due deliveries, one short probe per endpoint. No index on the
        # due time alone: the planner would walk it, past a dead endpoint's backlog, to find one endpoint's rows.
        Index(
            "ix_deliveries_endpoint_due", "endpoint_id", "next_attempt_at", postgresql_where=text("status = 'pending'")
        ),
        Index("ix_deliveries_endpoint_id", "endpoint_id", "created_at"),
        Index("uq_deliveries_event_id_endpoint_id", "event_id", "endpoint_id", unique=True),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"))
    operator_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), server_default=func.now())
    succeeded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DeliveryAttempt(Base):
    """One try at a delivery: the receiver's status code, or why there was none (timeout, refused address…)."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_endpoint_id", "endpoint_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column()
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
