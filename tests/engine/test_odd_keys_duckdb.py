"""A DuckDB table keyed by an ENUM arrives once.

DuckDB sorts an ENUM by its members' declared order but compares it with a bound as text
('Mid' < 'alpha'), so ranges cut from its sorted keys overlapped: 2,000 rows landed as
4,381 and validation failed. Such a key is read as one partition.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import psycopg

from workbench.engine.run import CopyOptions, copy_database

N = 900


def test_an_enum_led_key_arrives_once(tmp_path: Path, target_url, store):
    path = tmp_path / "moods.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TYPE mood AS ENUM ('zeta', 'alpha', 'Mid')")
        con.execute("CREATE TABLE moods (m mood NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (m, n))")
        con.execute(
            f"INSERT INTO moods SELECT (['zeta', 'alpha', 'Mid'])[1 + (i % 3)]::mood, i::INTEGER"
            f" FROM range({N}) r(i)"
        )
    result = copy_database(
        f"duckdb:///{path}", target_url, CopyOptions(workers=2, partition_rows=100), store=store
    )
    assert result.status == "succeeded" and result.validated, result.validation
    with psycopg.connect(target_url) as conn:
        landed = sorted(conn.execute("SELECT m::text, n FROM public.moods").fetchall())
    assert landed == sorted((["zeta", "alpha", "Mid"][i % 3], i) for i in range(N))
