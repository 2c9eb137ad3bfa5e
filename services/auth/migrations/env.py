from backoffice_common.migrations import run_migrations

from auth_service.config import Settings
from auth_service.models import Base

run_migrations(Base.metadata, Settings)
