"""Operators' webhook endpoints (design §12): their CRUD, at most MAX_ENDPOINTS each, URLs only where a webhook may
go (endpoints/urls.py), and a signing secret made here and shown once."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from backoffice_common.errors import Conflict, NotFound, field_error
from webhooks_service.endpoints.urls import UnsafeUrlError, check_url
from webhooks_service.models import Delivery, Endpoint

MAX_ENDPOINTS = 20
UPDATABLE = frozenset({"url", "events", "description", "is_active"})


def new_secret() -> str:
    """``whsec_`` and 43 URL-safe random characters (256 bits)."""
    return "whsec_" + secrets.token_urlsafe(32)


def checked_url(url: str, *, prod: bool) -> str:
    try:
        check_url(url, prod=prod)
    except UnsafeUrlError as exc:
        raise field_error("url", str(exc)) from exc
    return url


def get_endpoint(*, session: Session, operator_id: uuid.UUID, endpoint_id: uuid.UUID, lock: bool = False) -> Endpoint:
    """The operator's endpoint; 404 when unknown or another operator's."""
    endpoint = session.get(Endpoint, endpoint_id, with_for_update=lock or None)
    if endpoint is None or endpoint.operator_id != operator_id:
        raise NotFound("Webhook endpoint not found.")
    return endpoint


_LISTED = (
    select(
        Endpoint.id,
        Endpoint.url,
        Endpoint.events,
        Endpoint.description,
        Endpoint.is_active,
        Endpoint.created_at,
        Endpoint.updated_at,
    )
    .where(Endpoint.operator_id == bindparam("operator_id"))
    .order_by(Endpoint.created_at.desc(), Endpoint.id.desc())
)


def list_endpoints(*, session, operator_id: uuid.UUID) -> list:
    """The operator's endpoints, newest first (no secrets)."""
    return session.execute(_LISTED, {"operator_id": operator_id}).all()


def create_endpoint(
    *,
    session: Session,
    operator_id: uuid.UUID,
    url: str,
    events: list[str],
    prod: bool,
    description: str | None = None,
) -> Endpoint:
    """A new active endpoint with a fresh secret; 409 when the operator already has MAX_ENDPOINTS."""
    url = checked_url(url, prod=prod)
    # One operator's creates queue here, so two at once can't both be the 20th.
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"endpoints:{operator_id}"}
    )
    count = session.scalars(select(func.count()).where(Endpoint.operator_id == operator_id)).one()
    if count >= MAX_ENDPOINTS:
        raise Conflict(f"An operator can have at most {MAX_ENDPOINTS} webhook endpoints; delete one first.")
    endpoint = Endpoint(
        operator_id=operator_id,
        url=url,
        events=list(events),
        description=description,
        is_active=True,
        secret=new_secret(),
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def update_endpoint(
    *, session: Session, operator_id: uuid.UUID, endpoint_id: uuid.UUID, changes: dict, prod: bool
) -> Endpoint:
    endpoint = get_endpoint(session=session, operator_id=operator_id, endpoint_id=endpoint_id, lock=True)
    if "url" in changes:
        checked_url(changes["url"], prod=prod)
    was_active = endpoint.is_active
    for name, value in changes.items():
        if name in UPDATABLE:
            setattr(endpoint, name, list(value) if name == "events" else value)
    if endpoint.is_active != was_active:
        pause_or_resume(session=session, endpoint_id=endpoint.id, active=endpoint.is_active)
    session.flush()
    return endpoint


def pause_or_resume(*, session: Session, endpoint_id: uuid.UUID, active: bool) -> None:
    """A deactivated endpoint's pending deliveries wait unscheduled (``next_attempt_at`` NULL: never due, so the
    worker's claim never scans past them), and are due at once when it is active again."""
    pending = update(Delivery).where(Delivery.endpoint_id == endpoint_id, Delivery.status == "pending")
    if active:
        session.execute(pending.where(Delivery.next_attempt_at.is_(None)).values(next_attempt_at=func.now()))
    else:
        session.execute(pending.values(next_attempt_at=None))


def delete_endpoint(*, session: Session, operator_id: uuid.UUID, endpoint_id: uuid.UUID) -> None:
    """Delete the endpoint with its deliveries (pending ones are never sent)."""
    session.delete(get_endpoint(session=session, operator_id=operator_id, endpoint_id=endpoint_id, lock=True))
    session.flush()
