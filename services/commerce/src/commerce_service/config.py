from backoffice_common.config import CommonSettings


class Settings(CommonSettings):
    service_name: str = "commerce"
    database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5433/commerce"

    # Who owns a project never changes, so the projects service's answer is cached briefly
    # (deletion is handled by a tombstone, see models.KnownProject).
    project_cache_ttl_s: float = 30.0
    project_cache_max_entries: int = 10_000
