"""Profiling speed: a 10-million-row PostgreSQL table profiled without loading it into memory
(target < 60 s).

Run: ``nice -n 10 .venv/bin/python benchmarks/profile_bench.py
[--pg postgresql://postgres@127.0.0.1:5432/test] [--rows 10000000] [--keep]``.
The table ``wb_profile_bench`` (id, an email, a category, an amount, a timestamp, free text,
10 % NULLs in two columns) is generated inside the server with ``generate_series`` and kept
for reruns with ``--keep`` (dropped otherwise). Prints the seconds of each phase and the
process's peak memory, which stays at the size of the sample, not of the table.
"""

from __future__ import annotations

import argparse
import resource
import time

import psycopg

from workbench.connectors import connect
from workbench.profiling import ProfileOptions, profile_table

TABLE = "wb_profile_bench"


def ensure_table(url: str, rows: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [TABLE]
        ).fetchone()
        if found and found[0] >= rows * 0.99:
            return
        start = time.perf_counter()
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(
            f"""CREATE UNLOGGED TABLE {TABLE} AS
            SELECT g AS id,
                   'user' || (g % 2000000) || '@example.' || (ARRAY['com','org','net'])[g % 3 + 1]
                       AS email,
                   (ARRAY['red','green','blue','amber'])[g % 4 + 1] AS category,
                   CASE WHEN g % 10 = 0 THEN NULL ELSE round((random() * 1000)::numeric, 2) END
                       AS amount,
                   timestamp '2020-01-01' + (g % 100000) * interval '1 minute' AS created_at,
                   CASE WHEN g % 10 = 5 THEN NULL ELSE md5(g::text) || ' note ' || (g % 97) END
                       AS note
            FROM generate_series(1, {rows}) AS g"""
        )
        conn.execute(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (id)")
        conn.execute(f"ANALYZE {TABLE}")
        print(f"generated {rows:,} rows in {time.perf_counter() - start:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--sample-size", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    ensure_table(args.pg, args.rows)
    conn = connect(args.pg)
    try:
        start = time.perf_counter()
        profile = profile_table(conn, TABLE, ProfileOptions(sample_size=args.sample_size))
        seconds = time.perf_counter() - start
    finally:
        conn.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"profiled {profile.rows:,} rows x {len(profile.columns)} columns in {seconds:.1f} s "
        f"(sample {profile.sample_rows:,}, {profile.sample_method}); peak RSS {peak_mb:.0f} MB"
    )
    for c in profile.columns:
        print(
            f"  {c.name:<11} nulls {c.null_ratio:6.1%}  distinct {c.distinct:>10,} "
            f"({c.distinct_method})  semantic {c.semantic}  quality {c.quality.score}"
        )
    if not args.keep:
        with psycopg.connect(args.pg, autocommit=True) as pg:
            pg.execute(f"DROP TABLE IF EXISTS {TABLE}")


if __name__ == "__main__":
    main()
