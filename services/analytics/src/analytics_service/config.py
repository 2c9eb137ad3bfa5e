from backoffice_common.config import CommonSettings


class Settings(CommonSettings):
    service_name: str = "analytics"
    database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5433/analytics"
