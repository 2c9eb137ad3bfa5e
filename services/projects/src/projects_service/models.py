import datetime as dt
import uuid

from sqlalchemy import (
    CHAR,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backoffice_common.models import Timestamps, naming_metadata
from backoffice_common.outbox import OutboxColumns

PROJECT_TYPES = ("private", "public")
PROJECT_STATUSES = ("draft", "live", "closed", "archived")


class Base(DeclarativeBase):
    metadata = naming_metadata()


class Photographer(Timestamps, Base):
    """The operator's roster entry for a photographer; the id is the photographer's account id in auth."""

    __tablename__ = "photographers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    operator_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))


class Project(Timestamps, Base):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("type IN ('private', 'public')", name="type"),
        CheckConstraint("status IN ('draft', 'live', 'closed', 'archived')", name="status"),
        CheckConstraint("start_at IS NULL OR end_at IS NULL OR start_at <= end_at", name="dates_ordered"),
        Index("ix_projects_operator_id", "operator_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    operator_id: Mapped[uuid.UUID] = mapped_column()
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16), default="private")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    location_name: Mapped[str | None] = mapped_column(String(200))
    start_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    end_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    project_link: Mapped[str | None] = mapped_column(String(2048))
    terms_and_conditions: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str | None] = mapped_column(String(64))


class Assignment(Base):
    """A photographer assigned to a project."""

    __tablename__ = "project_photographers"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    photographer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("photographers.id"), primary_key=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Member(Base):
    """A participant who joined a project."""

    __tablename__ = "members"
    __table_args__ = (Index("ix_members_project_email", "project_id", "email"),)

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
    email: Mapped[str] = mapped_column(String(320))
    joined_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Photo(Timestamps, Base):
    __tablename__ = "photos"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'ready')", name="status"),
        CheckConstraint("status <> 'ready' OR ready_at IS NOT NULL", name="ready_at"),
        Index("ix_photos_project_id", "project_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    photographer_id: Mapped[uuid.UUID] = mapped_column(index=True)
    object_key: Mapped[str] = mapped_column(String(1024), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # When it became ready: written by the database (trigger ``ready_at``, migration 0006) whatever the path.
    ready_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=FetchedValue(), server_onupdate=FetchedValue()
    )


class OutboxMessage(OutboxColumns, Base):
    """Work that must happen after a commit, drained by the worker with retries (never lost)."""

    __tablename__ = "outbox"


class Invite(Base):
    """An email-bound invitation to a project. Only a hash of its link token is stored."""

    __tablename__ = "invites"
    __table_args__ = (
        Index("ix_invites_project_id", "project_id", "created_at"),
        Index("ix_invites_project_email", "project_id", "email"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class InviteQuota(Base):
    """Invites the operator queued on ``day`` (UTC), against the daily quota; the first invite of a new day
    starts the count again. Kept apart from the invites: deleting a project does not give its invites back."""

    __tablename__ = "invite_quotas"
    __table_args__ = (CheckConstraint("invites >= 0", name="invites"),)

    operator_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    invites: Mapped[int] = mapped_column(Integer)


class PhotoTag(Base):
    """A face match: this participant is in this photo."""

    __tablename__ = "photo_tags"

    photo_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# Rollups (migration 0004): running totals that triggers keep current in the same transaction as the
# facts they count, and that `rollups_rebuild()` recounts. Python only reads them.


class ProjectCounts(Base):
    """Per project: photographers assigned, members, ready photos."""

    __tablename__ = "project_counts"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    photographers: Mapped[int] = mapped_column(Integer, server_default="0")
    members: Mapped[int] = mapped_column(Integer, server_default="0")
    ready_photos: Mapped[int] = mapped_column(Integer, server_default="0")


class PhotoCounts(Base):
    """Ready photos per project and photographer."""

    __tablename__ = "photo_counts"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    photographer_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    ready: Mapped[int] = mapped_column(Integer, server_default="0")


class MemberSlots(Base):
    """Joins per project and 15-minute slot of UTC time (migration 0006): analytics over time sums whole slots."""

    __tablename__ = "member_slots"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    slot: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    joins: Mapped[int] = mapped_column(Integer, server_default="0")


class PhotoSlots(Base):
    """Photos made ready per project, 15-minute slot of UTC time and photographer (migration 0006)."""

    __tablename__ = "photo_slots"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    slot: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    photographer_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    ready: Mapped[int] = mapped_column(Integer, server_default="0")


class ProjectInvitees(Base):
    """Invites per project and email."""

    __tablename__ = "project_invitees"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    invites: Mapped[int] = mapped_column(Integer, server_default="0")


class TaggedMembers(Base):
    """Tags of a project's participant on ready photos, by the photo's photographer."""

    __tablename__ = "tagged_members"
    __table_args__ = (
        # Narrowed to photographers, analytics reads each one's tagged members in person order (migration 0007).
        Index(
            "ix_tagged_members_photographer_participant",
            "photographer_id",
            "participant_id",
            postgresql_include=["project_id"],
            postgresql_where=text("ready_tags > 0 AND member"),
        ),
    )

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    photographer_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    ready_tags: Mapped[int] = mapped_column(Integer, server_default="0")
    member: Mapped[bool] = mapped_column(Boolean, server_default="false")


class ProjectTagged(Base):
    """Tags of a project's participant on ready photos, in all."""

    __tablename__ = "project_tagged"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    ready_tags: Mapped[int] = mapped_column(Integer, server_default="0")
    member: Mapped[bool] = mapped_column(Boolean, server_default="false")


class ScopePeople(Base):
    """In how many of the operator's projects a person is a member (kind m), invited (i) or tagged (t)."""

    __tablename__ = "scope_people"
    __table_args__ = (CheckConstraint("kind IN ('m', 'i', 't')", name="kind"),)

    operator_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(CHAR(1), primary_key=True)
    person: Mapped[str] = mapped_column(Text, primary_key=True)
    projects: Mapped[int] = mapped_column(Integer, server_default="0")


class OperatorStats(Base):
    """Distinct people over all the operator's projects: members, invited emails, tagged members."""

    __tablename__ = "operator_stats"

    operator_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    members_enrolled: Mapped[int] = mapped_column(Integer, server_default="0")
    invited: Mapped[int] = mapped_column(Integer, server_default="0")
    users_tagged: Mapped[int] = mapped_column(Integer, server_default="0")


def locked(statement, lock: str | None):
    """How a rule locks the row it reads: ``lock="update"`` before changing or deleting it; ``"key_share"`` to keep
    it alive while rows referring to it are written (so a concurrent delete waits, instead of a foreign key failing
    with a 500)."""
    return statement.with_for_update(key_share=lock == "key_share") if lock else statement
