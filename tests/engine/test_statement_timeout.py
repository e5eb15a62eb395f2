"""A statement_timeout a DBA set for interactive sessions does not cancel a copy.

Set on the source's and the target's database (as many teams do), it cancelled every
partition whose read or COPY ran longer ("canceling statement due to statement timeout") and
the job failed. The workbench's own sessions unset it, as pg_dump and pg_restore do.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from workbench.engine.run import CopyOptions, copy_database

ROWS = 400_000


@pytest.fixture
def timed_out(pg_server) -> Iterator[tuple[str, str]]:
    source, target = pg_server.create_database("wbslow"), pg_server.create_database("wbslowt")
    with psycopg.connect(pg_server.url(source), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE events AS SELECT i AS id, md5(i::text) AS tag, now() AS at"
            f" FROM generate_series(1, {ROWS}) i"
        )
        conn.execute("ALTER TABLE events ADD PRIMARY KEY (id)")
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        for name in (source, target):
            conn.execute(f"ALTER DATABASE {name} SET statement_timeout = '100ms'")
    yield pg_server.url(source), pg_server.url(target)
    pg_server.drop_database(source)
    pg_server.drop_database(target)


def test_a_copy_outlasts_the_databases_statement_timeout(timed_out, store):
    source, target = timed_out
    # the setting holds for other sessions
    with psycopg.connect(source) as conn, pytest.raises(psycopg.errors.QueryCanceled):
        conn.execute("SELECT count(*) FROM events a, events b WHERE a.id < 3000")
    result = copy_database(
        source, target, CopyOptions(workers=2, partition_rows=200_000), store=store
    )
    assert result.status == "succeeded" and result.validated, result.validation
    assert result.tables["public.events"]["rows_written"] == ROWS
