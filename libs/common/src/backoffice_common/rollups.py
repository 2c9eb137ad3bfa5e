"""Running totals ("rollups") that a service keeps beside its facts, and their rebuild from the facts.

A service's triggers keep its rollup tables current in the same transaction as the fact that changes them
(so a figure read from a rollup is never behind its facts). The rebuild is the safety net for what triggers
cannot see — a bulk load with triggers off, a migration, a bug fixed later: it recounts every rollup from
the facts and writes only the rows that differ, so on a consistent database it writes nothing.

Each service's migration creates its ``rollups_rebuild()`` SQL function from :class:`Rollup` steps with
:func:`rebuild_function_sql`; ``make stats-rebuild`` (:func:`main`) calls it on each database. The text of
the function is fixed when the migration runs: a change here reaches a database through a new migration.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from sqlalchemy import create_engine, text


@dataclass(frozen=True)
class Rollup:
    """A rollup table: its key and value columns, and the query that counts it from the facts.

    ``want`` yields the key and value columns in that order. A row it leaves out must be absent or
    "empty": ``present`` (SQL over a row aliased ``r``) tells a row that counts something; by default, any
    value other than 0.
    """

    table: str
    keys: tuple[str, ...]
    values: tuple[str, ...]
    want: str
    present: str | None = None

    def is_present(self, alias: str) -> str:
        condition = self.present or " OR ".join(f"r.{v} <> 0" for v in self.values)
        return "(" + condition.replace("r.", f"{alias}.") + ")"


def _merge_sql(rollup: Rollup) -> str:
    keys, values = ", ".join(rollup.keys), ", ".join(rollup.values)
    same_key = " AND ".join(f"x.{k} = w.{k}" for k in rollup.keys)
    same_values = " AND ".join(f"x.{v} = w.{v}" for v in rollup.values)
    updates = ", ".join(f"{v} = excluded.{v}" for v in rollup.values)
    return f"""
  CREATE TEMP TABLE rollup_want ON COMMIT DROP AS {rollup.want};
  INSERT INTO {rollup.table} AS x ({keys}, {values})
    SELECT {keys}, {values} FROM rollup_want w
    WHERE NOT EXISTS (SELECT 1 FROM {rollup.table} x WHERE {same_key} AND {same_values})
      AND (EXISTS (SELECT 1 FROM {rollup.table} x WHERE {same_key}) OR {rollup.is_present("w")})
    ON CONFLICT ({keys}) DO UPDATE SET {updates};
  GET DIAGNOSTICS n = ROW_COUNT;
  changed := changed + n;
  DELETE FROM {rollup.table} x WHERE {rollup.is_present("x")}
    AND NOT EXISTS (SELECT 1 FROM rollup_want w WHERE {same_key});
  GET DIAGNOSTICS n = ROW_COUNT;
  changed := changed + n;
  DROP TABLE rollup_want;"""  # noqa: S608 - names and SQL from the Rollup constants a migration declares, no input


def rebuild_function_sql(*, facts: tuple[str, ...], rollups: tuple[Rollup, ...]) -> str:
    """``rollups_rebuild()``: recount every rollup from the facts; returns how many rows it had to change.

    Writers of the fact tables wait while it runs (SHARE lock), so it counts a still picture; readers don't.
    """
    steps = "".join(_merge_sql(rollup) for rollup in rollups)
    return f"""
CREATE OR REPLACE FUNCTION rollups_rebuild() RETURNS integer LANGUAGE plpgsql AS $rebuild$
DECLARE
  changed integer := 0;
  n integer;
BEGIN
  LOCK TABLE {", ".join(facts)} IN SHARE MODE;
  LOCK TABLE {", ".join(rollup.table for rollup in rollups)} IN EXCLUSIVE MODE;{steps}
  RETURN changed;
END
$rebuild$;
"""


def rebuild(database_url: str) -> int | None:
    """Run the database's ``rollups_rebuild()`` in one transaction: the number of rollup rows it changed,
    or None for a database that keeps no rollups."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            if not connection.execute(text("SELECT to_regprocedure('rollups_rebuild()') IS NOT NULL")).scalar():
                return None
            return int(connection.execute(text("SELECT rollups_rebuild()")).scalar_one())
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Recount the rollups of each database from its facts.")
    parser.add_argument("database_urls", nargs="+", metavar="DATABASE_URL")
    args = parser.parse_args(argv)
    for url in args.database_urls:
        changed = rebuild(url)
        name = url.rsplit("/", 1)[-1]
        if changed is not None:
            print(f"{name}: {'nothing to rebuild' if changed == 0 else f'{changed} rollup rows rebuilt'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
