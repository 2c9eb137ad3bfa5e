from backoffice_common.migrations import run_migrations
from webhooks_service.config import Settings
from webhooks_service.models import Base

run_migrations(Base.metadata, Settings)
