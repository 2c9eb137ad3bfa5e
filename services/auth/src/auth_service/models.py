import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from backoffice_common.models import Timestamps, naming_metadata


class Base(DeclarativeBase):
    metadata = naming_metadata()


class Account(Timestamps, Base):
    """A back-office login: an operator, or a photographer working for one.

    One table, so an email is unique across operators and photographers (design §2).
    """

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("role IN ('operator', 'photographer')", name="role"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    role: Mapped[str] = mapped_column(String(16))
    # The operator this account belongs to: itself for an operator.
    operator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))

    profile: Mapped["OperatorProfile | None"] = relationship(back_populates="account", lazy="joined")


class OperatorProfile(Base):
    __tablename__ = "operator_profiles"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[dict | None] = mapped_column(JSONB)
    billing_address: Mapped[dict | None] = mapped_column(JSONB)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    locale: Mapped[str] = mapped_column(String(35), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    profile_picture_url: Mapped[str | None] = mapped_column(String(2048))

    account: Mapped[Account] = relationship(back_populates="profile")


class Participant(Timestamps, Base):
    """Someone who buys photos: an account of the platform that cannot use the back office."""

    __tablename__ = "participants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class LoginFailure(Base):
    """Failed logins for one email in the current window: the login brake (decisions, "Login brake").

    Keyed by the normalised email, not by account, so an unknown email is braked alike and the brake says
    nothing about which accounts exist. A row whose window is over counts as no row.
    """

    __tablename__ = "login_failures"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int]
    window_started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
