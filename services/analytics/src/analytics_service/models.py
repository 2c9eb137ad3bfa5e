from backoffice_common.models import naming_metadata
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    metadata = naming_metadata()
