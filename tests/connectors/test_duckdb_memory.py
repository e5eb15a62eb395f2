"""DuckDB sources read within a memory bound, which a query that needs more raises.

The bound keeps a copy's memory flat from SF0.1 to SF1 (DuckDB's default cached every block
read until the connection closed); rows too wide for it must still copy, never fail the job.
"""

from __future__ import annotations

import itertools

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.connectors import connect
from workbench.connectors.base import Partition
from workbench.connectors.duckdb import MEMORY_LIMIT_MB
from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import TransientError

WIDE = 40_000  # a 2,048-row vector of these is 80 MB, beyond the bound


def _setting(connector, name: str) -> str:
    return str(connector.run(f"SELECT current_setting('{name}')")[0][0])


def _bound() -> str:
    """The first bound as DuckDB prints it back."""
    with duckdb.connect() as conn:
        conn.execute(f"SET memory_limit = '{MEMORY_LIMIT_MB}MB'")
        return str(conn.execute("SELECT current_setting('memory_limit')").fetchone()[0])


def _default() -> str:
    with duckdb.connect() as conn:
        return str(conn.execute("SELECT current_setting('memory_limit')").fetchone()[0])


def _narrow_then_wide(path, narrow: int = 3000) -> str:
    """``narrow`` one-letter rows, then 3,000 rows of WIDE letters each."""
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            f"CREATE TABLE w AS SELECT i, CASE WHEN i >= {narrow} THEN repeat(chr(CAST(65 + "
            f"i % 26 AS INTEGER)), {WIDE}) ELSE 'a' END AS t FROM range({narrow} + 3000) r(i) "
            "ORDER BY i"
        )
    return f"duckdb:///{path}"


def _read(connector, table) -> pa.Table:
    whole = Partition(table.name, table.schema, 0)
    return pa.Table.from_batches(list(connector.read_partition(table, whole, batch_rows=500)))


def test_a_connection_starts_bounded_and_a_copy_reads_on_one_thread(tmp_path):
    with duckdb.connect(str(tmp_path / "small.duckdb")) as conn:
        conn.execute("CREATE TABLE t AS SELECT 1 AS x")
    connector = connect(f"duckdb:///{tmp_path / 'small.duckdb'}")
    assert _setting(connector, "memory_limit") == _bound() != _default()
    assert _setting(connector, "temp_directory") == ""  # never spills into the user's folder
    with duckdb.connect() as plain:
        every_core = str(plain.execute("SELECT current_setting('threads')").fetchone()[0])
    assert _setting(connector, "threads") == every_core  # profiling's queries keep them all
    table = connector.introspect().table("t")
    list(connector.read_partition(table, Partition("t", table.schema, 0)))
    assert _setting(connector, "threads") == "1"  # a copy reads partitions side by side
    connector.close()


def test_a_partition_too_wide_for_the_bound_is_read_with_a_raised_bound(tmp_path):
    connector = connect(_narrow_then_wide(tmp_path / "wide.duckdb"))
    table = connector.introspect().table("w")
    rows = _read(connector, table)  # out of memory before any row went out: read again at once
    assert rows.num_rows == 6000
    assert sum(len(t) for t in rows.column("t").to_pylist()) == 3000 + 3000 * WIDE
    assert _setting(connector, "memory_limit") != _bound()  # raised
    connector.close()
    # later connections to the source keep the raised bound: no second failure
    later = connect(f"duckdb:///{tmp_path / 'wide.duckdb'}")
    assert _setting(later, "memory_limit") != _bound()
    later.close()


def test_rows_sent_before_the_bound_ran_out_make_the_partition_start_again(tmp_path):
    connector = connect(_narrow_then_wide(tmp_path / "late.duckdb", narrow=300_000))
    table = connector.introspect().table("w")
    whole = Partition(table.name, table.schema, 0)
    sent = 0
    with pytest.raises(TransientError, match="memory bound"):  # the engine retries those
        for batch in connector.read_partition(table, whole, batch_rows=500):
            sent += batch.num_rows
    assert 0 < sent < 303_000
    rows = _read(connector, table)  # the retry
    assert rows.num_rows == 303_000
    assert sum(len(t) for t in rows.column("t").to_pylist()) == 300_000 + 3000 * WIDE
    connector.close()


def test_a_query_too_big_for_the_bound_runs_again_with_a_raised_bound(tmp_path):
    connector = connect(_narrow_then_wide(tmp_path / "sort.duckdb"))
    # a sort holds every wide row at once (120 MB) and may not spill: out of memory, raised
    (row,) = connector.run(
        "SELECT sum(length(t)) FROM (SELECT t FROM w ORDER BY t DESC LIMIT 6000)"
    )
    assert row[0] == 3000 + 3000 * WIDE
    connector.close()


def test_wide_parquet_rows_copy_and_validate(tmp_path, target_url, store):
    folder = tmp_path / "lake"
    folder.mkdir()
    rows, wide = 4000, 5 * WIDE  # Parquet's reader holds less than a vector: wider still
    texts = ["a"] * 3000 + [chr(65 + i % 26) * wide for i in range(1000)]
    pq.write_table(pa.table({"i": list(range(rows)), "t": texts}), folder / "w.parquet")
    result = copy_database(f"parquet://{folder}", target_url, CopyOptions(workers=1), store=store)
    assert result.status == "succeeded" and result.validated, result.validation
    with psycopg.connect(target_url) as conn:
        (schema,) = conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'w' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema', '_workbench')"
        ).fetchone()
        count, total = conn.execute(f'SELECT count(*), sum(length(t)) FROM "{schema}".w').fetchone()
    assert (count, total) == (rows, 3000 + 1000 * wide)


def test_big_tables_split_from_a_sample_within_the_bound(tmp_path):
    """The exact pass sorted every key (lineitem's composite key: 96 MB, beyond the bound)."""
    path = tmp_path / "keys.duckdb"
    with duckdb.connect(str(path)) as conn:  # 2.4 million composite keys, skewed: 1 to 7 lines
        conn.execute(
            "CREATE TABLE lines (o BIGINT NOT NULL, l INTEGER NOT NULL, PRIMARY KEY (o, l))"
        )
        conn.execute(
            "INSERT INTO lines SELECT o, l FROM range(600000) r(o), range(1, 8) s(l) "
            "WHERE l <= 1 + (o * 7919) % 7"
        )
    connector = connect(f"duckdb:///{path}")
    table = connector.introspect().table("lines")
    assert table.row_estimate and table.row_estimate > 500_000  # above the sampling threshold
    points = connector.split_points(table, ["o", "l"], 8)
    assert len(points) == 7 and points == sorted(points)
    bounds = [None, *points, None]
    counts = [
        connector.count(table, Partition("lines", table.schema, i, ("o", "l"), lo, hi))
        for i, (lo, hi) in enumerate(itertools.pairwise(bounds))
    ]
    total = connector.count(table)
    assert sum(counts) == total and max(counts) - min(counts) < 0.1 * total / 8, counts
    assert _setting(connector, "memory_limit") == _bound()  # not raised
    connector.close()
