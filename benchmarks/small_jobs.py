"""Small jobs: how long a notebook waits for a 10-table, 10,000-row copy.

    .venv/bin/python benchmarks/small_jobs.py [--rounds 5] [--postgres URL]

A SQLite source of 10 keyed tables x 1,000 rows is copied into PostgreSQL (validated, keys
built), the way a notebook does it: several jobs in one Python process (the first one pays
for imports and whatever the process starts; the later ones are "warm"), then `workbench
copy` as a fresh process. Baselines in the same run: pgloader (Debian package) and the pipe
(`sqlite3 -csv | psql \\copy`, keys after), each as its own process.

Targets (issue "at the speed of the pipe"): warm job under 2 s, first job of a process
under 5 s. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from copy_bench import fresh_pg  # this folder is on the path when run as a script

TABLES, ROWS = 10, 1_000
BIN = Path(sys.executable).parent


def build_source(path: Path) -> None:
    conn = sqlite3.connect(path)
    for t in range(TABLES):
        conn.execute(
            f"CREATE TABLE t{t} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER,"
            " price NUMERIC(10,2), day DATE)"
        )
        conn.executemany(
            f"INSERT INTO t{t} VALUES (?, ?, ?, ?, ?)",
            [
                (i, f"item {i} of t{t}", i % 97, round(i * 1.25, 2), f"2024-01-{1 + i % 28:02d}")
                for i in range(ROWS)
            ],
        )
    conn.commit()
    conn.close()


def count_rows(url: str, schema: str = "public") -> int:
    with psycopg.connect(url) as conn:
        return sum(
            conn.execute(f'SELECT count(*) FROM "{schema}"."t{t}"').fetchone()[0]
            for t in range(TABLES)
        )


IN_PROCESS = r"""
import sys, time, json
t0 = time.perf_counter()
from workbench.engine.run import copy_database, CopyOptions
imported = time.perf_counter() - t0
source, targets = sys.argv[1], sys.argv[2:]
out = {"import": imported, "jobs": []}
for target in targets:
    t = time.perf_counter()
    result = copy_database(source, target, CopyOptions(if_exists="replace"))
    assert result.status == "succeeded" and result.validated, result
    out["jobs"].append(time.perf_counter() - t)
print(json.dumps(out))
"""


def timed(cmd: list[str] | str, env: dict[str, str], shell: bool = False) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, shell=shell, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="jobs in one process")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="wb-small-"))
    source_path = folder / "small.sqlite"
    build_source(source_path)
    source = f"sqlite:///{source_path}"
    env = {**os.environ, "WORKBENCH_DATA_DIR": str(folder / "data")}
    env.setdefault("WORKBENCH_DATABASE_URL", fresh_pg(args.postgres, "wb_small_store"))
    subprocess.run([str(BIN / "workbench"), "init"], env=env, check=True, capture_output=True)

    targets = [fresh_pg(args.postgres, f"wb_small_{i}") for i in range(args.rounds)]
    out = subprocess.run(
        [sys.executable, "-c", IN_PROCESS, source, *targets],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    import json

    measured = json.loads(out.stdout.strip().splitlines()[-1])
    jobs = measured["jobs"]
    assert all(count_rows(t) == TABLES * ROWS for t in targets)

    cli_target = fresh_pg(args.postgres, "wb_small_cli")
    cli = timed([str(BIN / "workbench"), "copy", source, cli_target, "--if-exists", "replace"], env)
    results = [
        ("workbench, first job in a process", jobs[0], "5 s target"),
        ("workbench, warm job (median of later)", statistics.median(jobs[1:] or jobs), "2 s"),
        ("workbench copy (CLI, fresh process)", cli, ""),
    ]
    if shutil.which("pgloader"):
        pgl_target = fresh_pg(args.postgres, "wb_small_pgloader")
        results.append(("pgloader", timed(["pgloader", "--quiet", source, pgl_target], env), ""))
    if shutil.which("sqlite3"):
        pipe_target = fresh_pg(args.postgres, "wb_small_pipe")
        results.append(("pipe (sqlite3 -csv | psql)", _pipe(source_path, pipe_target, env), ""))
    print(f"Python imports of the engine: {measured['import']:.2f} s (in the first job's process)")
    print(f"{'contender':<40} {'seconds':>8}  note")
    for name, seconds, note in results:
        print(f"{name:<40} {seconds:>8.2f}  {note}")
    print("all jobs:", ", ".join(f"{s:.2f}" for s in jobs))


def _pipe(path: Path, target: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    with psycopg.connect(target, autocommit=True) as conn:
        for t in range(TABLES):
            conn.execute(
                f"CREATE TABLE t{t} (id bigint, name text NOT NULL, qty bigint,"
                " price numeric(10,2), day date)"
            )
    for t in range(TABLES):
        subprocess.run(
            f"sqlite3 -csv {path} 'SELECT * FROM t{t}' | psql -q -d {target} "
            f"-c '\\copy t{t} FROM STDIN (FORMAT csv)'",
            shell=True, check=True, env=env, capture_output=True,
        )  # fmt: skip
    with psycopg.connect(target, autocommit=True) as conn:
        for t in range(TABLES):
            conn.execute(f"ALTER TABLE t{t} ADD PRIMARY KEY (id)")
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
