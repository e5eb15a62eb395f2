"""COPY text (CSV, rendered by Arrow) vs COPY binary (psycopg's typed row writer) into PostgreSQL.

    python benchmarks/copy_formats.py postgresql://postgres@127.0.0.1:5432/postgres

The engine writes CSV because Arrow renders it in C++ without a Python loop per row; binary
COPY would need per-row Python (or a hand-written vectorized encoder for every type).
"""

from __future__ import annotations

import sys
import time

import numpy as np
import psycopg
import pyarrow as pa

from workbench.connectors.pgcopy import copy_batch

N = 300_000
DDL = (
    "CREATE TEMP TABLE t (k bigint, q numeric(15,2), d date, flag text, note varchar(44))"
    " ON COMMIT DROP"
)


def table() -> pa.Table:
    rng = np.random.default_rng(1)
    return pa.table(
        {
            "k": pa.array(np.arange(N), pa.int64()),
            "q": pa.array(rng.integers(1, 10**6, N), pa.int64()).cast(pa.decimal128(21, 2)),
            "d": pa.array(rng.integers(8000, 10000, N).astype("int32"), pa.date32()),
            "flag": pa.array(np.array(["A", "N", "R"])[rng.integers(0, 3, N)]),
            "note": pa.array([f"comment {i}" for i in range(N)]),
        }
    )


def main(url: str) -> None:
    data = table()
    with psycopg.connect(url) as conn:
        conn.execute(DDL)
        started = time.monotonic()
        with conn.cursor() as cur:
            for batch in data.to_batches(50_000):
                copy_batch(cur, None, "t", batch)
        csv = N / (time.monotonic() - started)
        conn.rollback()
        conn.execute(DDL)
        started = time.monotonic()
        rows = data.to_pylist()
        with conn.cursor().copy("COPY t FROM STDIN (FORMAT binary)") as copy:
            copy.set_types(["int8", "numeric", "date", "text", "varchar"])
            for row in rows:
                copy.write_row(tuple(row.values()))
        binary = N / (time.monotonic() - started)
        conn.rollback()
    print(f"COPY csv (Arrow-rendered): {csv:,.0f} rows/s")
    print(f"COPY binary (psycopg rows): {binary:,.0f} rows/s (includes to_pylist)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "postgresql://postgres@127.0.0.1:5432/postgres")
