from backoffice_common.config import CommonSettings


class Settings(CommonSettings):
    service_name: str = "analytics"
    database_url: str = "postgresql+psycopg2://postgres@127.0.0.1:5433/analytics"
    # Request threads per gunicorn worker (backoffice_common.gunicorn_conf reads the same WEB_THREADS): the pool
    # that asks a second peer at once has one thread for each (clients/at_once.py).
    web_threads: int = 2
