"""Parquet columns whose DuckDB reading lost what they were.

DuckDB reads a Parquet duration (pandas' timedelta64) as a bare BIGINT count of its unit, a
decimal of more than 38 digits as DOUBLE (both landed, and validated: bigint nanoseconds,
rounded doubles), and a nanosecond timestamp with a time zone (pandas' tz-aware columns) as
TIMESTAMPTZ_NS, which the type map did not cover (the job stopped). Durations land as
intervals, tz-aware nanoseconds as timestamptz rounded to microseconds as PostgreSQL reads
them, an all-null column as text; wide decimals are refused by name before anything is copied.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import UnsupportedError

NS = [1_704_110_400_123_456_789, -86_400_000_000_500, None, 0]  # rounds up, a half below 1970


def test_durations_tz_nanoseconds_and_null_columns_land_as_what_they_are(
    tmp_path: Path, target_url, store
):
    folder = tmp_path / "lake"
    folder.mkdir()
    table = pa.table(
        {
            "id": pa.array([1, 2, 3, 4], pa.int32()),
            "at": pa.array(NS, pa.timestamp("ns", tz="Europe/Paris")),
            "took_ns": pa.array([1_500, -2_000_000_001, None, 86_400 * 10**9], pa.duration("ns")),
            "took_us": pa.array([1, -5, None, 400 * 86_400 * 10**6], pa.duration("us")),
            "took_ms": pa.array([1, 2, None, 3], pa.duration("ms")),
            "took_s": pa.array([1, -2, None, 90_000], pa.duration("s")),
            "nothing": pa.array([None] * 4, pa.null()),
        }
    )
    pq.write_table(table, folder / "events.parquet")
    result = copy_database(f"parquet://{folder}", target_url, CopyOptions(), store=store)
    assert result.status == "succeeded" and result.validated, result.validation
    with psycopg.connect(target_url) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        types = dict(
            conn.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = 'public.events'::regclass AND attnum > 0"
            ).fetchall()
        )
        rows = conn.execute(
            "SELECT at, took_ns, took_us, took_ms, took_s, nothing FROM public.events ORDER BY id"
        ).fetchall()
    assert types == {
        "id": "integer",
        "at": "timestamp with time zone",
        "took_ns": "interval",
        "took_us": "interval",
        "took_ms": "interval",
        "took_s": "interval",
        "nothing": "text",
    }
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    micros = [None if n is None else (n + 500) // 1000 for n in NS]  # to the nearest, halves up
    assert [r[0] for r in rows] == [
        None if m is None else epoch + dt.timedelta(microseconds=m) for m in micros
    ]
    us = dt.timedelta(microseconds=1)
    assert [r[1] for r in rows] == [2 * us, -2_000_000 * us, None, dt.timedelta(days=1)]
    assert [r[2] for r in rows] == [us, -5 * us, None, dt.timedelta(days=400)]
    assert [r[3] for r in rows] == [1000 * us, 2000 * us, None, 3000 * us]
    assert [r[4] for r in rows] == [
        dt.timedelta(seconds=1),
        dt.timedelta(seconds=-2),
        None,
        dt.timedelta(seconds=90_000),
    ]
    assert [r[5] for r in rows] == [None] * 4


def test_decimals_wider_than_duckdb_reads_are_refused_by_name(tmp_path: Path, target_url, store):
    folder = tmp_path / "lake"
    folder.mkdir()
    wide = pa.array(
        [Decimal("1234567890123456789012345678901234567890.0123456789")], pa.decimal256(50, 10)
    )
    pq.write_table(pa.table({"id": [1], "amount": wide}), folder / "ledger.parquet")
    with pytest.raises(UnsupportedError) as caught:
        copy_database(f"parquet://{folder}", target_url, CopyOptions(), store=store)
    message = str(caught.value)
    assert "'amount'" in message and "DECIMAL(50,10)" in message and "38 digits" in message
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT to_regclass('public.ledger')").fetchone() == (None,)
