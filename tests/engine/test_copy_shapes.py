"""Tables of every awkward shape, SQLite Chinook, validation that catches a broken copy,
and repair."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.engine.helpers import rows
from workbench.engine.repair import validate_job
from workbench.engine.run import CopyOptions, copy_database
from workbench.store import jobs


@pytest.fixture
def shapes(pg_server):
    """A PostgreSQL source with a keyless table, a composite text key, an empty table,
    a single row and a heavily skewed integer key."""
    name = pg_server.create_database("wbshapes")
    url = pg_server.url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE nokey (a int, b text)")
        conn.execute("INSERT INTO nokey SELECT i % 7, 'v' || i FROM generate_series(1, 3000) i")
        conn.execute("INSERT INTO nokey SELECT 1, 'v1' FROM generate_series(1, 5)")  # duplicates
        conn.execute(
            "CREATE TABLE composite (country text, city text, pop int, PRIMARY KEY (country, city))"
        )
        conn.execute(
            "INSERT INTO composite SELECT 'C' || (i % 13), 'city ' || i, i"
            " FROM generate_series(1, 5000) i"
        )
        conn.execute("CREATE TABLE empty (id int PRIMARY KEY, x text)")
        conn.execute("CREATE TABLE one (id int PRIMARY KEY, x text)")
        conn.execute("INSERT INTO one VALUES (1, 'only')")
        conn.execute("CREATE TABLE skewed (id bigint PRIMARY KEY, v int)")
        conn.execute("INSERT INTO skewed SELECT i, i FROM generate_series(1, 4000) i")
        conn.execute("INSERT INTO skewed SELECT 1000000000 + i, i FROM generate_series(1, 10) i")
        conn.execute("ANALYZE")
    yield url
    pg_server.drop_database(name)


def test_awkward_shapes_copy_exactly(shapes, target_url, store):
    result = copy_database(
        shapes, target_url, CopyOptions(workers=2, partition_rows=1000), store=store
    )
    assert result.status == "succeeded" and result.validated
    t = result.tables
    assert t["public.nokey"]["partitions"] == 1 and t["public.nokey"]["rows_written"] == 3005
    assert t["public.composite"]["partitions"] >= 4  # keyset ranges on a text key
    assert t["public.empty"]["rows_written"] == 0 and t["public.one"]["rows_written"] == 1
    # skew-aware: no partition of the skewed table holds most of its rows
    per_partition = [
        c["rows_written"]
        for c in jobs.job_checkpoints(store, result.job_id)
        if c["table_name"] == "public.skewed"
    ]
    assert len(per_partition) >= 3 and max(per_partition) < 0.6 * 4010
    for table, order in [
        ("nokey", "a, b"),
        ("composite", "country, city"),
        ("one", "id"),
        ("skewed", "id"),
        ("empty", "id"),
    ]:
        assert rows(shapes, table, order) == rows(target_url, table, order), table


def test_chinook_sqlite_to_postgres(chinook_sqlite, target_url, store):
    result = copy_database(chinook_sqlite, target_url, CopyOptions(workers=2), store=store)
    assert result.status == "succeeded" and result.validated
    assert len(result.tables) == 11
    source = sqlite3.connect(make_url(chinook_sqlite).database)
    with psycopg.connect(target_url) as conn:
        for table, key in [
            ("Invoice", "InvoiceId"),
            ("Track", "TrackId"),
            ("Customer", "CustomerId"),
            ("InvoiceLine", "InvoiceLineId"),
        ]:
            src = source.execute(f'SELECT * FROM "{table}" ORDER BY "{key}"').fetchall()
            dst = conn.execute(f'SELECT * FROM public."{table}" ORDER BY "{key}"').fetchall()
            assert len(src) == len(dst), table
            for a, b in zip(src, dst, strict=True):
                assert [_plain(x) for x in a] == [_plain(x) for x in b], table


def _plain(value):
    """SQLite keeps dates as text and decimals as floats: compare their text forms."""
    import datetime as dt
    import decimal

    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float | decimal.Decimal):
        return f"{float(value):.2f}"
    return value


def test_validation_catches_a_broken_copy_and_repair_fixes_it(shapes, target_url, store):
    result = copy_database(
        shapes, target_url, CopyOptions(workers=2, partition_rows=1000), store=store
    )
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("UPDATE skewed SET v = v + 1 WHERE id = 2500")  # silent corruption
        conn.execute("DELETE FROM composite WHERE city = 'city 77'")  # a lost row
    report = validate_job(result.job_id, store=store)
    assert not report.ok
    broken = {t.table: t for t in report.mismatched}
    assert set(broken) == {"public.skewed", "public.composite"}
    assert len(broken["public.skewed"].mismatched_partitions) == 1  # located to one range
    repaired = validate_job(result.job_id, store=store, repair=True)
    assert repaired.ok
    for table, order in [("composite", "country, city"), ("skewed", "id")]:
        assert rows(shapes, table, order) == rows(target_url, table, order), table
