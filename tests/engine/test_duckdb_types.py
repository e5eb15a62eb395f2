"""DuckDB types the copy did not cover: each lands as what it is, validated.

``TIME WITH TIME ZONE`` and ``BIGNUM`` (arbitrary-size integers) were outside the type map (the
job stopped), and a fixed-size ``ARRAY`` (``INTEGER[3]``), which DuckDB hands over as Arrow's
fixed_size_list, could not be written: every row of its table went to quarantine.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import psycopg

from workbench.connectors.duckdb import duckdb_module
from workbench.engine.run import CopyOptions, copy_database

BIG = 123456789012345678901234567890123456789012345678901234567890


def test_timetz_fixed_size_arrays_and_bignums_land_as_what_they_are(
    tmp_path: Path, target_url, store
):
    path = tmp_path / "odd.duckdb"
    conn = duckdb_module().connect(str(path))
    conn.execute("CREATE TABLE t (id INT PRIMARY KEY, ttz TIMETZ, arr INTEGER[3], n BIGNUM)")
    conn.execute(
        "INSERT INTO t VALUES (1, '12:34:56+05:30', [1, NULL, 3], " + str(BIG) + "),"
        " (2, '23:59:59.5-03:00', [4, 5, 6], -" + str(BIG) + "),"
        " (3, '00:00:00.000001+14:59', NULL, 0), (4, NULL, [0, 0, 0], NULL)"
    )
    conn.close()
    result = copy_database(f"duckdb:///{path}", target_url, CopyOptions(), store=store)
    assert result.status == "succeeded" and result.validated, result.validation
    assert [t["rows_quarantined"] for t in result.tables.values()] == [0]
    with psycopg.connect(target_url) as conn:
        types = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = 'public.t'::regclass AND attnum > 0 ORDER BY attnum"
        ).fetchall()
        rows = conn.execute("SELECT ttz, arr, n FROM public.t ORDER BY id").fetchall()
    assert [t for (t,) in types] == ["integer", "time with time zone", "integer[]", "numeric"]
    zone = dt.timezone
    assert rows == [
        (
            dt.time(12, 34, 56, tzinfo=zone(dt.timedelta(hours=5, minutes=30))),
            [1, None, 3],
            Decimal(BIG),
        ),
        (
            dt.time(23, 59, 59, 500000, tzinfo=zone(dt.timedelta(hours=-3))),
            [4, 5, 6],
            Decimal(-BIG),
        ),
        (dt.time(0, 0, 0, 1, tzinfo=zone(dt.timedelta(hours=14, minutes=59))), None, Decimal(0)),
        (None, [0, 0, 0], None),
    ]
