"""Migration 0009 on a database that already holds purchases: paid ones take their ``updated_at`` as ``paid_at``,
refunded ones their ``created_at``, pending and failed ones none; down and up again leaves the same."""

import datetime as dt
import uuid
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from backoffice_common.testing.plugin import create_migrated_database

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"
CREATED = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC)
UPDATED = dt.datetime(2026, 10, 1, 12, 3, tzinfo=dt.UTC)


def test_existing_purchases_are_filled_in(pg_admin_url):
    url = create_migrated_database(pg_admin_url, "unit_commerce_migration", ALEMBIC_INI)
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(ALEMBIC_INI.parent / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    command.downgrade(config, "0008")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for status in ("pending", "paid", "failed", "refunded"):
                connection.execute(
                    text(
                        "INSERT INTO purchases (id, operator_id, project_id, project_name, participant_id, "
                        "participant_email, participant_name, status, photo_count, price_per_photo_cents, "
                        "subtotal_cents, discount_applied_cents, total_cents, currency, created_at, updated_at) "
                        "VALUES (:id, :o, :p, 'P', :g, 'g@x.io', 'G', :s, 1, 500, 500, 0, 500, 'EUR', :c, :u)"
                    ),
                    {
                        "id": uuid.uuid4(),
                        "o": uuid.uuid4(),
                        "p": uuid.uuid4(),
                        "g": uuid.uuid4(),
                        "s": status,
                        "c": CREATED,
                        "u": UPDATED,
                    },
                )
        for _ in range(2):
            command.upgrade(config, "head")
            with engine.connect() as connection:
                assert dict(connection.execute(text("SELECT status, paid_at FROM purchases")).all()) == {
                    "pending": None,
                    "paid": UPDATED,
                    "failed": None,
                    "refunded": CREATED,
                }
            command.downgrade(config, "0008")
    finally:
        engine.dispose()
