"""The platform feed into projects (design §9): participants joining, and face-match tags."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from backoffice_common import webhook_events
from backoffice_common.api import utc_text
from backoffice_common.errors import Conflict, Forbidden, NotFound, field_error
from projects_service.clients.auth import AuthClient
from projects_service.invites.rules import token_hash
from projects_service.models import Invite, Member, OutboxMessage, Photo, PhotoTag, Project


def participant_email(*, auth: AuthClient, participant_id: uuid.UUID, email: str) -> str:
    """The joining participant's own email, from auth: the email in the request must be it (else 422).

    A private project's invite is bound to an email; trusting the caller's word for whose email it is
    would let any participant use someone else's invite.
    """
    own = auth.participant_email(participant_id)
    if own is None:
        raise field_error("participantId", "Unknown participant.", summary="No participant has this id.")
    if own != email:
        raise field_error(
            "email", "Must be the participant's own email.", summary="The email is not this participant's."
        )
    return own


def join_as_participant(
    *,
    session: Session,
    auth: AuthClient,
    project_id: uuid.UUID,
    participant_id: uuid.UUID,
    email: str,
    now: dt.datetime,
    invite_token: str | None = None,
) -> tuple[Member, bool]:
    """``join_project`` for the email auth knows the participant by (asked before any row is locked)."""
    email = participant_email(auth=auth, participant_id=participant_id, email=email)
    return join_project(
        session=session,
        project_id=project_id,
        participant_id=participant_id,
        email=email,
        now=now,
        invite_token=invite_token,
    )


def join_project(
    *,
    session: Session,
    project_id: uuid.UUID,
    participant_id: uuid.UUID,
    email: str,
    now: dt.datetime,
    invite_token: str | None = None,
) -> tuple[Member, bool]:
    """Add a participant to a live project (a private one needs a valid invite for that email).

    Returns (member, created); joining twice is not an error.
    """
    # Key-share lock: a project deleted meanwhile makes us wait and then 404, not fail its foreign key.
    project = session.get(Project, project_id, with_for_update={"key_share": True})
    if project is None:
        raise NotFound("Project not found.")
    existing = session.get(Member, (project_id, participant_id))
    if existing is not None:
        return existing, False
    if project.status != "live":
        raise Conflict(f"Participants can only join a live project; this one is {project.status}.")
    if project.type == "private":
        valid = select(Invite.id).where(Invite.project_id == project_id, Invite.email == email, Invite.expires_at > now)
        if invite_token is not None:
            valid = valid.where(Invite.token_hash == token_hash(invite_token))
        if session.scalar(valid.limit(1)) is None:
            raise Forbidden("This private project needs a valid invite for this email.")
    inserted = session.execute(
        insert(Member)
        .values(project_id=project_id, participant_id=participant_id, email=email)
        .on_conflict_do_nothing()
        .returning(Member.participant_id)
    ).first()
    # No row back: a concurrent request joined first, and this one is the idempotent repeat.
    member = session.get_one(Member, (project_id, participant_id), populate_existing=True)
    if inserted is not None:
        record_member_joined(session=session, operator_id=project.operator_id, member=member)
    return member, inserted is not None


def record_member_joined(*, session: Session, operator_id: uuid.UUID, member: Member) -> None:
    """The ``member.joined`` webhook event (design §12), into the outbox in the transaction that adds the member:
    it exists exactly when the member does, and the worker relays it to the webhooks service."""
    data = {
        "projectId": str(member.project_id),
        "participantId": str(member.participant_id),
        "joinedAt": utc_text(member.joined_at),
    }
    event = webhook_events.new_event("member.joined", operator_id=operator_id, data=data, created_at=member.joined_at)
    session.add(OutboxMessage(kind=webhook_events.OUTBOX_KIND, payload=event))


def tag_photo(*, session: Session, photo_id: uuid.UUID, participant_ids: list[uuid.UUID]) -> None:
    """Record that these participants are in the photo; each must be a member of its project."""
    photo = session.get(Photo, photo_id, with_for_update={"key_share": True})
    if photo is None:
        raise NotFound("Photo not found.")
    wanted = set(participant_ids)
    members = set(
        session.scalars(
            select(Member.participant_id).where(
                Member.project_id == photo.project_id, Member.participant_id.in_(wanted)
            )
        )
    )
    strangers = sorted(str(participant) for participant in wanted - members)
    if strangers:
        raise field_error(
            "participantIds",
            f"Not a member: {', '.join(strangers)}",
            summary="Only members of the photo's project can be tagged.",
        )
    if wanted:
        session.execute(
            insert(PhotoTag)
            .values([{"photo_id": photo_id, "participant_id": participant} for participant in wanted])
            .on_conflict_do_nothing()
        )
