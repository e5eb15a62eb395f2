"""The cost of masking: TPC-H ``customer`` from MariaDB into PostgreSQL, with and without masks.

    python benchmarks/masking_bench.py [--source mysql://root@127.0.0.1:3306/tpch_sf1]
        [--server postgresql://postgres@127.0.0.1:5432] [--runs 3]

Three columns are masked (``c_name`` fake name, ``c_phone`` partial keep-last-4,
``c_address`` keyed hash); no validation, ``if_exists="replace"``. Runs alternate plain and
masked in a fresh target database (and a fresh store database), both dropped at the end.
Printed: rows/s of each run (the job's own figure and wall clock), medians, the overhead %.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.config import load_settings
from workbench.engine.run import CopyOptions, copy_database
from workbench.store import open_store
from workbench.store.tenancy import drop_store_roles

MASKS = {
    "customer": {
        "c_name": {"mask": {"kind": "fake", "provider": "name"}},
        "c_phone": {"mask": {"kind": "partial", "keep_last": 4}},
        "c_address": {"mask": {"kind": "hash"}},
    }
}


def _database(server: str, name: str, create: bool) -> str:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')
        else:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            drop_store_roles(conn, name)  # roles are cluster-wide: the database leaves them
    return f"{server}/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="mysql://root@127.0.0.1:3306/tpch_sf1")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    tag = uuid.uuid4().hex[:8]
    target_name, store_name = f"masking_bench_{tag}", f"masking_bench_store_{tag}"
    target = _database(args.server, target_name, create=True)
    store_url = _database(args.server, store_name, create=True)
    results: dict[str, list[tuple[float, float]]] = {"plain": [], "masked": []}
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            settings = load_settings(database_url=store_url, data_dir=data_dir)
            with open_store(settings) as store:
                for run in range(args.runs):
                    for label, transforms in (("plain", {}), ("masked", MASKS)):
                        options = CopyOptions(
                            tables=("customer",),
                            transforms=transforms,
                            validate=False,
                            if_exists="replace",
                        )
                        started = time.perf_counter()
                        result = copy_database(args.source, target, options, store=store)
                        wall = time.perf_counter() - started
                        rows = result.rows_copied
                        results[label].append((result.rows_per_second, rows / wall))
                        print(
                            f"run {run + 1} {label:<6} {rows:,} rows:"
                            f" {result.rows_per_second:,.0f} rows/s (job),"
                            f" {rows / wall:,.0f} rows/s (wall {wall:.2f} s)",
                            flush=True,
                        )
            with psycopg.connect(target) as conn:
                (schema,) = conn.execute(
                    "SELECT table_schema FROM information_schema.tables"
                    " WHERE table_name = 'customer'"
                ).fetchone()
                sample = conn.execute(
                    sql.SQL(
                        "SELECT c_name, c_phone, c_address FROM {} ORDER BY c_custkey LIMIT 1"
                    ).format(sql.Identifier(schema, "customer"))
                ).fetchone()
            print(f"masked sample row: {sample}")
    finally:
        _database(args.server, target_name, create=False)
        _database(args.server, store_name, create=False)

    for i, what in enumerate(("job", "wall")):
        plain = statistics.median(r[i] for r in results["plain"])
        masked = statistics.median(r[i] for r in results["masked"])
        overhead = (plain - masked) / plain * 100 if plain else 0.0
        print(
            f"median ({what}): plain {plain:,.0f} rows/s, masked {masked:,.0f} rows/s,"
            f" overhead {overhead:.1f}%"
        )


if __name__ == "__main__":
    main()
