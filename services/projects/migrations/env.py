from backoffice_common.migrations import run_migrations
from projects_service.config import Settings
from projects_service.models import Base

run_migrations(Base.metadata, Settings)
