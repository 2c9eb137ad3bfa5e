from backoffice_common.migrations import run_migrations

from analytics_service.config import Settings
from analytics_service.models import Base

run_migrations(Base.metadata, Settings)
