"""The body of every service's Alembic ``env.py``: online migrations against
``DATABASE_URL`` (or the URL a test put in the Alembic config)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool


def run_migrations(target_metadata, settings_class) -> None:
    config = context.config
    url = config.get_main_option("sqlalchemy.url") or settings_class().database_url
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
