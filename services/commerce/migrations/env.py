from backoffice_common.migrations import run_migrations
from commerce_service.config import Settings
from commerce_service.models import Base

run_migrations(Base.metadata, Settings)
