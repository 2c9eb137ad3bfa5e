"""Migration 0006 on a database that already holds photos and members: ready photos take their ``updated_at`` as
``ready_at``, the slot rollups are filled from the facts, and the way down and up again leaves the same."""

import datetime as dt
import uuid
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from backoffice_common.testing.plugin import create_migrated_database

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"
READY_AT = dt.datetime(2026, 10, 25, 0, 20, tzinfo=dt.UTC)


def _alembic(url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(ALEMBIC_INI.parent / "migrations"))
    config.set_main_option("sqlalchemy.url", url)
    return config


def test_existing_photos_and_members_are_filled_in(pg_admin_url):
    url = create_migrated_database(pg_admin_url, "unit_projects_migration", ALEMBIC_INI)
    config = _alembic(url)
    command.downgrade(config, "0005")
    engine = create_engine(url)
    project, photographer = uuid.uuid4(), uuid.uuid4()
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO projects (id, operator_id, name, type, status) VALUES (:p, :o, 'P', 'public', 'live')"
                ),
                {"p": project, "o": uuid.uuid4()},
            )
            for status, created in (("ready", READY_AT - dt.timedelta(hours=5)), ("pending", READY_AT)):
                connection.execute(
                    text(
                        "INSERT INTO photos (id, project_id, photographer_id, object_key, filename, content_type, "
                        "size_bytes, status, created_at, updated_at) VALUES (:id, :p, :ph, :k, 'a.jpg', 'image/jpeg', "
                        "1, :s, :c, :u)"
                    ),
                    {
                        "id": uuid.uuid4(),
                        "p": project,
                        "ph": photographer,
                        "k": str(uuid.uuid4()),
                        "s": status,
                        "c": created,
                        "u": READY_AT,
                    },
                )
            connection.execute(
                text(
                    "INSERT INTO members (project_id, participant_id, email, joined_at) VALUES (:p, :g, 'g@x.io', :j)"
                ),
                {"p": project, "g": uuid.uuid4(), "j": READY_AT + dt.timedelta(minutes=20)},
            )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            assert sorted(
                connection.execute(text("SELECT status, ready_at FROM photos")).all(), key=lambda row: row.status
            ) == [("pending", None), ("ready", READY_AT)]
            assert connection.execute(text("SELECT slot, photographer_id, ready FROM photo_slots")).all() == [
                (dt.datetime(2026, 10, 25, 0, 15, tzinfo=dt.UTC), photographer, 1)
            ]
            assert connection.execute(text("SELECT slot, joins FROM member_slots")).all() == [
                (dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC), 1)
            ]
        command.downgrade(config, "0005")
        command.upgrade(config, "head")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT rollups_rebuild()")).scalar() == 0
            assert connection.execute(text("SELECT count(*) FROM photos WHERE ready_at IS NOT NULL")).scalar() == 1
    finally:
        engine.dispose()
