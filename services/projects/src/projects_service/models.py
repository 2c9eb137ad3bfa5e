import uuid

from backoffice_common.models import Timestamps, naming_metadata
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = naming_metadata()


class Photographer(Timestamps, Base):
    """The operator's roster entry for a photographer; the id is the photographer's account id in auth."""

    __tablename__ = "photographers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    operator_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
