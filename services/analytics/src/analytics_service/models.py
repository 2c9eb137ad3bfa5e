from sqlalchemy.orm import DeclarativeBase

from backoffice_common.models import naming_metadata


class Base(DeclarativeBase):
    metadata = naming_metadata()
