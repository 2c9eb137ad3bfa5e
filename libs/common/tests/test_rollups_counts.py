"""count_distinct_by: the distinct count of merged ordered ranges equals the hashed count and a recount in Python,
for any rows, values (repeated, absent, none), extra conditions, and past the merged ranges' limit."""

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Boolean, Column, Index, Integer, MetaData, Table, Uuid, create_engine, insert, text

from backoffice_common.rollups import MERGED_RANGES_AT_MOST, count_distinct, count_distinct_by

metadata = MetaData()
rows = Table(
    "rollup_count_probe",
    metadata,
    Column("photographer_id", Uuid, nullable=False),
    Column("project_id", Uuid, nullable=False),
    Column("participant_id", Uuid, nullable=False),
    Column("ready_tags", Integer, nullable=False),
    Column("member", Boolean, nullable=False),
    Index("ix_rollup_count_probe", "photographer_id", "participant_id", postgresql_include=["project_id"]),
)
PHOTOGRAPHERS = [uuid.UUID(int=n) for n in range(1, MERGED_RANGES_AT_MOST + 6)]
PROJECTS = [uuid.UUID(int=1000 + n) for n in range(4)]
PEOPLE = [uuid.UUID(int=2000 + n) for n in range(12)]


@pytest.fixture(scope="module")
def connection(pg_admin_url):
    engine = create_engine(pg_admin_url)
    with engine.connect() as connection:
        connection.execute(text("DROP TABLE IF EXISTS rollup_count_probe"))
        metadata.create_all(connection)  # a probe table of this test, not a service's schema
        connection.commit()
        yield connection
        connection.rollback()
        metadata.drop_all(connection)
        connection.commit()
    engine.dispose()


row = st.tuples(
    st.sampled_from(PHOTOGRAPHERS), st.sampled_from(PROJECTS), st.sampled_from(PEOPLE), st.integers(0, 2), st.booleans()
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    facts=st.sets(row, max_size=60),
    # a few (merged ranges, some repeated or absent) or more than the ranges' limit (hashed)
    photographers=st.one_of(st.lists(st.sampled_from(PHOTOGRAPHERS), max_size=6), st.just(PHOTOGRAPHERS)),
    projects=st.sets(st.sampled_from(PROJECTS), min_size=1),
)
def test_merged_ranges_count_what_a_recount_counts(connection, facts, photographers, projects):
    # one row per (photographer, project, person), as in the rollups
    facts = {(p, project, person): (tags, member) for p, project, person, tags, member in facts}
    connection.execute(rows.delete())
    if facts:
        connection.execute(
            insert(rows),
            [
                dict(photographer_id=p, project_id=project, participant_id=person, ready_tags=tags, member=member)
                for (p, project, person), (tags, member) in facts.items()
            ],
        )
    where = (rows.c.project_id.in_(sorted(projects)), rows.c.ready_tags > 0, rows.c.member)
    expected = len(
        {
            person
            for (p, project, person), (tags, member) in facts.items()
            if p in photographers and project in projects and tags > 0 and member
        }
    )
    merged = connection.scalar(count_distinct_by(rows.c.participant_id, rows.c.photographer_id, photographers, *where))
    hashed = connection.scalar(count_distinct(rows.c.participant_id, rows.c.photographer_id.in_(photographers), *where))
    assert merged == hashed == expected


def test_one_range_per_distinct_value_up_to_the_limit_and_hashed_past_it(connection):
    def plan(values):
        statement = count_distinct_by(rows.c.participant_id, rows.c.photographer_id, values)
        compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
        return str(compiled)

    assert plan(PHOTOGRAPHERS[:2]).count("UNION ALL") == 1
    assert plan(PHOTOGRAPHERS[:2] * 2).count("UNION ALL") == 1  # a value given twice is one range
    assert plan(PHOTOGRAPHERS[:MERGED_RANGES_AT_MOST]).count("UNION ALL") == MERGED_RANGES_AT_MOST - 1
    assert "UNION ALL" not in plan(PHOTOGRAPHERS[: MERGED_RANGES_AT_MOST + 1])
    assert "UNION ALL" not in plan(PHOTOGRAPHERS[:1])
