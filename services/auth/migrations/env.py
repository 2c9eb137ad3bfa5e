from auth_service.config import Settings
from auth_service.models import Base
from backoffice_common.migrations import run_migrations

run_migrations(Base.metadata, Settings)
