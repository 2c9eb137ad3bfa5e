"""Bulk invites and their registration status (design §5)."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import case, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.orm import Session

from backoffice_common.errors import Conflict, TooManyRequests
from projects_service.clients.auth import AuthClient
from projects_service.models import Invite, InviteQuota, Member, OutboxMessage
from projects_service.projects.rules import owned_project

INVITABLE_STATUSES = ("draft", "live")


@dataclass(frozen=True)
class BulkInviteResult:
    """``queued + skipped`` is the number of emails sent."""

    queued: int
    skipped: int


@dataclass(frozen=True)
class InviteStatus:
    """An invite with its invitee's registration status."""

    id: uuid.UUID
    email: str
    created_at: dt.datetime
    expires_at: dt.datetime
    registration_status: str


class InviteQuotaExceeded(TooManyRequests):
    default_message = "The daily invite quota is used up."


def quota_resets_in(now: dt.datetime) -> int:
    """Whole seconds (at least 1) until the next UTC midnight, when the daily invite quota starts again."""
    midnight = dt.datetime.combine(now.astimezone(dt.UTC).date() + dt.timedelta(days=1), dt.time(), dt.UTC)
    return max(1, math.ceil((midnight - now).total_seconds()))


def take_invite_quota(*, session: Session, operator_id: uuid.UUID, count: int, quota: int, now: dt.datetime) -> None:
    """Count ``count`` invites against the operator's quota for today (UTC), or refuse them all (429).

    One conditional upsert: concurrent requests of one operator queue on its row, and each sees the
    count the one before it left, so together they never pass the quota.
    """
    if count == 0:
        return
    today = now.astimezone(dt.UTC).date()
    new_day = InviteQuota.day < today
    taken = None
    if count <= quota:
        taken = session.scalar(
            upsert(InviteQuota)
            .values(operator_id=operator_id, day=today, invites=count)
            .on_conflict_do_update(
                index_elements=[InviteQuota.operator_id],
                set_={
                    "day": func.greatest(InviteQuota.day, today),
                    "invites": case((new_day, count), else_=InviteQuota.invites + count),
                },
                where=or_(new_day, InviteQuota.invites + count <= quota),
            )
            .returning(InviteQuota.invites)
        )
    if taken is None:
        used = (
            session.scalar(
                select(InviteQuota.invites).where(InviteQuota.operator_id == operator_id, InviteQuota.day >= today)
            )
            or 0
        )
        raise InviteQuotaExceeded(
            f"The daily invite quota is {quota} invites (UTC day); {max(quota - used, 0)} left today, "
            f"and this request would queue {count}. Nothing was queued.",
            headers={"Retry-After": str(quota_resets_in(now))},
        )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bulk_invite(
    *,
    session: Session,
    operator_id: uuid.UUID,
    project_id: uuid.UUID,
    emails: list[str],
    ttl: dt.timedelta,
    now: dt.datetime,
    daily_quota: int,
) -> BulkInviteResult:
    """Invite each email once; skip members, live pending invites and repeats. ``queued + skipped = len(emails)``.

    The project row is locked so two bulk requests for one project can't both invite the same email.
    Each invite's email goes into the outbox in the same transaction: it is sent even if SMTP is down now.
    What would be queued counts against the operator's daily quota; a request that would pass it is
    refused whole (429), and its transaction rolls back with nothing queued.
    """
    project = owned_project(session, operator_id, project_id, lock="update")
    if project.status not in INVITABLE_STATUSES:
        raise Conflict(f"Invites cannot be sent for a {project.status} project.")
    unique = list(dict.fromkeys(emails))
    members = set(
        session.scalars(select(Member.email).where(Member.project_id == project_id, Member.email.in_(unique)))
    )
    pending = set(
        session.scalars(
            select(Invite.email).where(
                Invite.project_id == project_id, Invite.email.in_(unique), Invite.expires_at > now
            )
        )
    )
    fresh = [email for email in unique if email not in members and email not in pending]
    invites, messages = [], []
    for email in fresh:
        token, invite_id = secrets.token_urlsafe(32), uuid.uuid4()
        invites.append(
            {
                "id": invite_id,
                "project_id": project_id,
                "email": email,
                "token_hash": token_hash(token),
                "created_at": now,
                "expires_at": now + ttl,
            }
        )
        messages.append(
            {
                "kind": "email.invite",
                "payload": {
                    "inviteId": str(invite_id),
                    "projectId": str(project_id),
                    "operatorId": str(operator_id),
                    "to": email,
                    "token": token,
                    "projectName": project.name,
                    "projectTimezone": project.timezone,
                    "expiresAt": (now + ttl).isoformat(),
                },
            }
        )
    take_invite_quota(session=session, operator_id=operator_id, count=len(invites), quota=daily_quota, now=now)
    if invites:
        session.execute(insert(Invite), invites)
        session.execute(insert(OutboxMessage), messages)
    return BulkInviteResult(queued=len(fresh), skipped=len(emails) - len(fresh))


def registration_status(*, joined: bool, registered: bool, expired: bool) -> str:
    """joined > registered > expired > pending (design §5)."""
    if joined:
        return "joined"
    if registered:
        return "registered"
    return "expired" if expired else "pending"


def list_invites(
    *, session: Session, auth: AuthClient, operator_id: uuid.UUID, project_id: uuid.UUID, now: dt.datetime
) -> list[InviteStatus]:
    """The project's invites, newest first, each with its invitee's registration status.

    Two queries here and one batched call to auth, however many invites.
    """
    owned_project(session, operator_id, project_id)
    invites = session.execute(
        select(Invite.id, Invite.email, Invite.created_at, Invite.expires_at)
        .where(Invite.project_id == project_id)
        .order_by(Invite.created_at.desc(), Invite.id.desc())
    ).all()
    emails = sorted({invite.email for invite in invites})
    joined = set(session.scalars(select(Member.email).where(Member.project_id == project_id))) if emails else set()
    registered = auth.registered_emails([email for email in emails if email not in joined])
    return [
        InviteStatus(
            id=invite.id,
            email=invite.email,
            created_at=invite.created_at,
            expires_at=invite.expires_at,
            registration_status=registration_status(
                joined=invite.email in joined, registered=invite.email in registered, expired=invite.expires_at <= now
            ),
        )
        for invite in invites
    ]
