"""Copy TPC-H from MariaDB into PostgreSQL with every contender, side by side, in one run.

    python benchmarks/copy_bench.py --scale 1 [--scale 0.1] [--skip naive]

Contenders: `workbench copy --no-validate`, `workbench copy` (validated), pgloader (Debian
package), the pipe (`mariadb --batch --quick | psql \\copy`, two tables at a time, keys added
after) and the naive notebook loop (pandas read_sql in chunks + to_sql(method="multi"), only
at scale factors below 1: it takes minutes). Each gets a fresh PostgreSQL database. Printed:
wall seconds, rows/s, peak memory of the contender's whole process tree, ratios.
Also PostgreSQL -> PostgreSQL and SQLite -> PostgreSQL: the workbench (validated and not)
against each source's own pipe, and pgloader for SQLite; a DuckDB file and Parquet files
against DuckDB's own `postgres` extension (`benchmarks/duckdb_baseline.py`; skip them all
with --skip extra).
``--rounds N`` runs every contender N times, interleaved, and reports medians.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import duckdb_baseline
import tpch

BIN = Path(sys.executable).parent


@dataclass
class Run:
    name: str
    scale: float
    rows: int
    seconds: float
    peak_mb: float
    note: str = ""

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


class PeakMemory:
    """Samples the summed RSS of a process and all its descendants."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                root = psutil.Process(self.pid)
                procs = [root, *root.children(recursive=True)]
                total = 0
                for p in procs:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            self._stop.wait(0.2)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


def timed(
    cmd: list[str] | str, env: dict | None = None, shell: bool = False
) -> tuple[float, float, str]:
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, env=env, shell=shell, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    meter = PeakMemory(proc.pid)
    out, err = proc.communicate()
    seconds = time.monotonic() - started
    peak = meter.stop()
    if proc.returncode != 0:
        raise RuntimeError(
            f"{cmd if isinstance(cmd, str) else ' '.join(cmd)} failed:\n{err[-3000:]}"
        )
    return seconds, peak, out


def fresh_pg(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def pg_rows(url: str, schema: str = "public") -> int:
    with psycopg.connect(url) as conn:
        return sum(
            conn.execute(f'SELECT count(*) FROM "{schema}"."{t}"').fetchone()[0]
            for t in tpch.TABLES
        )


def run_workbench(
    name: str, source: str, target: str, scale: float, validate: bool, env: dict
) -> Run:
    cmd = [str(BIN / "workbench"), "copy", source, target, "--json", "--if-exists", "replace"]
    if not validate:
        cmd.append("--no-validate")
    seconds, peak, out = timed(cmd, env=env)
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["status"] == "succeeded", summary
    assert not validate or summary["validated"], summary
    return Run(
        name,
        scale,
        summary["rows_copied"],
        seconds,
        peak,
        f"job {summary['job_id']}, engine {summary['seconds']:.1f} s",
    )


def run_pgloader(source: str, target: str, scale: float) -> Run:
    seconds, peak, _ = timed(["pgloader", "--quiet", source, target])
    schema = source.rsplit("/", 1)[1]
    return Run("pgloader", scale, pg_rows(target, schema), seconds, peak)


def run_pipe(mysql_db: str, target: str, scale: float) -> Run:
    """Per table `mariadb --batch --quick | psql \\copy`, two tables at a time, keys after."""
    return _pipe(
        "pipe (mariadb|psql)",
        lambda table: (
            f"mariadb -uroot -h127.0.0.1 --batch --quick --skip-column-names {mysql_db} "
            f"-e 'SELECT * FROM {table}' | psql -q -d {target} "
            f"-c \"\\copy {table} FROM STDIN (FORMAT text, NULL 'NULL')\""
        ),
        target,
        scale,
    )


def run_pg_pipe(source: str, target: str, scale: float) -> Run:
    """PostgreSQL -> PostgreSQL: `COPY TO STDOUT | COPY FROM STDIN` per table, same rules."""
    return _pipe(
        "pipe (COPY TO|COPY FROM)",
        lambda table: (
            f"psql -q -d {source} -c '\\copy {table} TO STDOUT' | "
            f"psql -q -d {target} -c '\\copy {table} FROM STDIN'"
        ),
        target,
        scale,
    )


def run_sqlite_pipe(db: Path, target: str, scale: float) -> Run:
    """SQLite -> PostgreSQL: `sqlite3 -csv | psql \\copy (FORMAT csv)` per table, same rules."""
    return _pipe(
        "pipe (sqlite3 -csv|psql)",
        lambda table: (
            f"sqlite3 -csv {db} 'SELECT * FROM {table}' | "
            f"psql -q -d {target} -c '\\copy {table} FROM STDIN (FORMAT csv)'"
        ),
        target,
        scale,
    )


def _pipe(
    name: str,
    command: Callable[[str], str],
    target: str,
    scale: float,
    whole: Callable[[list[str]], list[str]] | None = None,
) -> Run:
    """Each table by ``command`` (a shell pipe), two at a time; or, with ``whole``, all of
    them by the one command it gives for the tables in order (which runs two at a time
    itself); largest table first, keys built after."""
    tpch.create_postgres_tables(target)
    started = time.monotonic()
    order = sorted(tpch.TABLES, key=lambda t: -os.path.getsize(f"/tmp/tpch/sf{scale:g}/{t}.tbl"))
    if whole is not None:
        peaks = [timed(whole(order))[1]]
    else:
        with ThreadPoolExecutor(2) as pool:
            peaks = list(pool.map(lambda table: timed(command(table), shell=True)[1], order))
    tpch.add_postgres_keys(target)
    seconds = time.monotonic() - started
    return Run(name, scale, pg_rows(target), seconds, sum(sorted(peaks)[-2:]))


NAIVE = r"""
import sys, pandas as pd, sqlalchemy as sa
src = sa.create_engine(sys.argv[1]); dst = sa.create_engine(sys.argv[2])
total = 0
for table in sys.argv[3:]:
    for i, chunk in enumerate(pd.read_sql(f"SELECT * FROM {table}", src, chunksize=10000)):
        chunk.to_sql(table, dst, if_exists="append" if i else "replace", index=False,
                     method="multi", chunksize=1000)
        total += len(chunk)
print(total)
"""


def run_naive(source: str, target: str, scale: float) -> Run:
    src = source.replace("mysql://", "mysql+pymysql://")
    dst = target.replace("postgresql://", "postgresql+psycopg://")
    seconds, peak, out = timed([sys.executable, "-c", NAIVE, src, dst, *tpch.TABLES])
    return Run("naive pandas loop", scale, int(out.strip()), seconds, peak)


def sqlite_from_tbl(folder: Path, path: Path) -> None:
    if path.exists():
        return
    conn = sqlite3.connect(path)
    for name, columns in tpch.TABLES.items():
        conn.execute(f"CREATE TABLE {name} ({columns})")
        with open(folder / f"{name}.tbl") as fh:
            first = fh.readline().rstrip("\n").rstrip("|").split("|")
            fh.seek(0)
            marks = ",".join("?" * len(first))
            conn.executemany(
                f"INSERT INTO {name} VALUES ({marks})",
                (line.rstrip("\n").rstrip("|").split("|") for line in fh),
            )
    conn.commit()
    conn.close()


def other_sources(
    args: argparse.Namespace,
    env: dict,
    tag: str,
    scale: float,
    pg_source: str | None,
    db: Path | None,
    duck: tuple[Path, Path] | None = None,
) -> list[tuple[str, Callable[[], Run]]]:
    """PostgreSQL, SQLite, DuckDB and Parquet sources: the workbench (validated and not) and
    each one's pipe (DuckDB's own postgres extension for the last two); pgloader for SQLite,
    which it reads too."""
    out: list[tuple[str, Callable[[], Run]]] = []

    def workbench(name: str, source: str, db_name: str, validate: bool) -> Callable[[], Run]:
        return lambda: run_workbench(
            name, source, fresh_pg(args.postgres, db_name), scale, validate, env
        )

    def into(run: Callable[[str], Run], db_name: str) -> Callable[[], Run]:
        return lambda: run(fresh_pg(args.postgres, db_name))

    if pg_source is not None:
        name = "workbench PG->PG"
        out += [
            ("workbench", workbench(f"{name} --no-validate", pg_source, f"pgdst_{tag}", False)),
            ("pipe", into(lambda t: run_pg_pipe(pg_source, t, scale), f"pgpipe_{tag}")),
            ("validated", workbench(f"{name} (validated)", pg_source, f"pgval_{tag}", True)),
        ]
    if db is not None:
        url, name = f"sqlite:///{db}", "workbench SQLite->PG"
        out += [
            ("pipe", into(lambda t: run_sqlite_pipe(db, t, scale), f"sqlpipe_{tag}")),
            ("workbench", workbench(f"{name} --no-validate", url, f"sqldst_{tag}", False)),
            ("validated", workbench(f"{name} (validated)", url, f"sqlval_{tag}", True)),
            ("pgloader", into(lambda t: run_sqlite_pgloader(db, t, scale), f"sqlpgl_{tag}")),
        ]
    if duck is not None:
        for kind, path, url in [
            ("DuckDB", duck[0], f"duckdb:///{duck[0]}"),
            ("Parquet", duck[1], f"parquet:///{duck[1]}"),
        ]:
            name, low = f"workbench {kind}->PG", kind.lower()
            ext = lambda t, k=low, p=path: run_duckdb_ext(k, p, t, scale)  # noqa: E731
            out += [
                ("workbench", workbench(f"{name} --no-validate", url, f"{low}dst_{tag}", False)),
                ("pipe", into(ext, f"{low}ext_{tag}")),
                ("validated", workbench(f"{name} (validated)", url, f"{low}val_{tag}", True)),
            ]
    return [(key, fn) for key, fn in out if key not in args.skip]


def run_duckdb_ext(kind: str, source: Path, target: str, scale: float) -> Run:
    """DuckDB or Parquet -> PostgreSQL by DuckDB's own postgres extension (`INSERT INTO
    pg.t SELECT * FROM ...`), two tables at a time, keys after: as the pipes."""
    label = "DuckDB" if kind == "duckdb" else "Parquet"
    dsn = " ".join(f"{k}={v}" for k, v in _libpq(target).items())
    return _pipe(
        f"duckdb postgres extension ({label}->PG)",
        lambda _table: "",  # unused: one command for every table
        target,
        scale,
        whole=lambda order: duckdb_baseline.copy_command(kind, source, dsn, order),
    )


def _libpq(url: str) -> dict[str, str]:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    fields = {"host": u.host, "port": u.port, "user": u.username, "dbname": u.database}
    return {k: str(v) for k, v in fields.items() if v}


def run_sqlite_pgloader(db: Path, target: str, scale: float) -> Run:
    seconds, peak, _ = timed(["pgloader", "--quiet", f"sqlite://{db}", target])
    return Run("pgloader SQLite->PG", scale, pg_rows(target), seconds, peak)


def medians(runs: list[Run]) -> list[Run]:
    """One run per contender and scale: the median seconds of its rounds (their range in the
    note), the highest peak memory."""
    groups: dict[tuple[str, float], list[Run]] = {}
    for r in runs:
        groups.setdefault((r.name, r.scale), []).append(r)
    out = []
    for (name, scale), group in groups.items():
        if len(group) == 1:
            out.append(group[0])
            continue
        seconds = sorted(r.seconds for r in group)
        middle = statistics.median(seconds)
        note = f"median of {len(group)}: {seconds[0]:.1f}-{seconds[-1]:.1f} s"
        out.append(Run(name, scale, group[0].rows, middle, max(r.peak_mb for r in group), note))
    return out


def table(runs: list[Run], baseline: Callable[[Run], Run | None]) -> str:
    lines = [
        f"{'contender':<34} {'SF':>4} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'peak MB':>8}"
        f" {'vs pgloader':>11} {'vs pipe':>8}  note"
    ]
    for r in runs:
        pgl = baseline(r, "pgloader")
        pipe = baseline(r, "pipe (mariadb|psql)")
        vs_pgl = f"{r.rows_per_second / pgl.rows_per_second:.2f}x" if pgl else "-"
        vs_pipe = f"{r.rows_per_second / pipe.rows_per_second:.2f}x" if pipe else "-"
        lines.append(
            f"{r.name:<34} {r.scale:>4g} {r.rows:>10,} {r.seconds:>8.1f} "
            f"{r.rows_per_second:>10,.0f} {r.peak_mb:>8.0f} {vs_pgl:>11} {vs_pipe:>8}  {r.note}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, action="append")
    parser.add_argument("--mysql", default="mysql://root@127.0.0.1:3306")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        help=(
            "contenders to skip: workbench, validated, pgloader, pipe, naive, extra (the other"
            " sources), mariadb (every MariaDB contender), pgsource, sqlite, duckdb (DuckDB"
            " and Parquet)"
        ),
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="run every contender this many times, "
        "interleaved; the table shows each one's median"
    )  # fmt: skip
    args = parser.parse_args()
    scales = args.scale or [0.1, 1]
    env = {**os.environ, "WORKBENCH_DATA_DIR": tempfile.mkdtemp(prefix="wbbench-")}
    # the store is made once before the timed runs, as `workbench init` (README's setup)
    # makes it on a new machine: otherwise the first contender pays for it (1.5 s measured)
    subprocess.run([str(BIN / "workbench"), "init"], env=env, check=True, capture_output=True)
    runs: list[Run] = []
    failed: list[str] = []
    for scale in scales:
        tag = f"sf{scale:g}".replace(".", "")
        folder = tpch.generate(scale, Path(f"/tmp/tpch/sf{scale:g}"))
        source = f"{args.mysql}/tpch_{tag}"
        mariadb = (
            set()
            if "mariadb" in args.skip
            else {"workbench", "validated", "pgloader", "pipe", "naive"} - set(args.skip)
        )
        if mariadb and not _mysql_has(source):  # only the other sources: MariaDB not needed
            tpch.load_mysql(source, folder)
        contenders: list[tuple[str, Callable[[], Run]]] = [
            (
                "workbench",
                lambda source=source, tag=tag, scale=scale: run_workbench(
                    "workbench copy --no-validate",
                    source,
                    fresh_pg(args.postgres, f"wb_{tag}"),
                    scale,
                    False,
                    env,
                ),
            ),
            (
                "validated",
                lambda source=source, tag=tag, scale=scale: run_workbench(
                    "workbench copy (validated)",
                    source,
                    fresh_pg(args.postgres, f"wbv_{tag}"),
                    scale,
                    True,
                    env,
                ),
            ),
            (
                "pgloader",
                lambda source=source, tag=tag, scale=scale: run_pgloader(
                    source, fresh_pg(args.postgres, f"pgl_{tag}"), scale
                ),
            ),
            (
                "pipe",
                lambda source=source, tag=tag, scale=scale: run_pipe(
                    f"tpch_{tag}", fresh_pg(args.postgres, f"pipe_{tag}"), scale
                ),
            ),
        ]
        if scale < 1:
            contenders.append(
                (
                    "naive",
                    lambda source=source, tag=tag, scale=scale: run_naive(
                        source, fresh_pg(args.postgres, f"naive_{tag}"), scale
                    ),
                )
            )
        pg_source = db = None
        if "extra" not in args.skip and "pgsource" not in args.skip:
            pg_source = fresh_pg(args.postgres, f"pgsrc_{tag}")
            tpch.load_postgres(pg_source, folder)
            with psycopg.connect(pg_source, autocommit=True) as conn:
                # as a live database is: vacuumed and analyzed (whoever reads a freshly loaded
                # table first pays for setting its hint bits)
                conn.execute("VACUUM (ANALYZE)")
        if "extra" not in args.skip and "sqlite" not in args.skip:
            db = Path(f"/tmp/tpch/{tag}.sqlite")
            sqlite_from_tbl(folder, db)
        duck = None
        if "extra" not in args.skip and "duckdb" not in args.skip:
            duck = (Path(f"/tmp/tpch/{tag}.duckdb"), Path(f"/tmp/tpch/{tag}_parquet"))
            duckdb_baseline.make_sources(tpch.TABLES, folder, *duck)
        others = other_sources(args, env, tag, scale, pg_source, db, duck)
        for _ in range(args.rounds):  # interleaved: a slow minute of the machine hits all
            for key, fn in [*((k, f) for k, f in contenders if k in mariadb), *others]:
                try:
                    run = fn()
                except RuntimeError as exc:  # a contender that fails is reported, not fatal
                    failed.append(f"{key} SF{scale:g}: {str(exc).splitlines()[:3]}")
                    print(f"  FAILED {failed[-1]}", flush=True)
                    continue
                runs.append(run)
                print(
                    f"  {run.name} SF{scale:g}: {run.seconds:.1f} s, "
                    f"{run.rows_per_second:,.0f} rows/s, peak {run.peak_mb:.0f} MB",
                    flush=True,
                )

    own_pipe = {
        "PG->PG": "pipe (COPY TO|COPY FROM)",
        "SQLite->PG": "pipe (sqlite3 -csv|psql)",
        "DuckDB->PG": "duckdb postgres extension (DuckDB->PG)",
        "Parquet->PG": "duckdb postgres extension (Parquet->PG)",
    }

    own_pgloader = {"SQLite->PG": "pgloader SQLite->PG"}

    def baseline(run: Run, name: str) -> Run | None:
        """MariaDB runs against pgloader and the MariaDB pipe; the other sources against
        their own pipe and their own pgloader run (none for PostgreSQL sources)."""
        kind = next(
            (k for k, p in own_pipe.items() if k in run.name or p == run.name or
             own_pgloader.get(k) == run.name),
            None,
        )  # fmt: skip
        if kind is not None:
            name = own_pgloader.get(kind, "") if name == "pgloader" else own_pipe[kind]
        return next((r for r in runs if r.name == name and r.scale == run.scale), None)

    runs = medians(runs)
    print()
    print(table(runs, baseline))
    for line in failed:
        print(f"failed: {line}")
    for kind, plain_name, checked_name in [
        ("MariaDB->PG", "workbench copy --no-validate", "workbench copy (validated)"),
        ("PG->PG", "workbench PG->PG --no-validate", "workbench PG->PG (validated)"),
        ("SQLite->PG", "workbench SQLite->PG --no-validate", "workbench SQLite->PG (validated)"),
        ("DuckDB->PG", "workbench DuckDB->PG --no-validate", "workbench DuckDB->PG (validated)"),
        ("Parquet->PG", "workbench Parquet->PG --no-validate", "workbench Parquet->PG (validated)"),
    ]:
        for scale in sorted({r.scale for r in runs}):
            plain = next((r for r in runs if r.name == plain_name and r.scale == scale), None)
            checked = next((r for r in runs if r.name == checked_name and r.scale == scale), None)
            if plain and checked:
                print(
                    f"validated / unvalidated, {kind} SF{scale:g}: "
                    f"{checked.seconds / plain.seconds:.2f}x (target 1.25x)"
                )
    for name in {r.name for r in runs if r.name.startswith("workbench")}:
        small = next((r for r in runs if r.name == name and r.scale == 0.1), None)
        big = next((r for r in runs if r.name == name and r.scale == 1), None)
        if small and big:
            print(
                f"scale, {name}: SF1 / SF0.1 seconds {big.seconds / small.seconds:.1f}x "
                f"(target <= 10.5x), peak memory {big.peak_mb / small.peak_mb:.2f}x "
                f"(target <= 1.2x, under 1,536 MB: {big.peak_mb:.0f} MB)"
            )
    shutil.rmtree(env["WORKBENCH_DATA_DIR"], ignore_errors=True)


def _mysql_has(url: str) -> bool:
    import pymysql
    from sqlalchemy.engine import make_url

    u = make_url(url)
    try:
        conn = pymysql.connect(
            host=u.host, port=u.port or 3306, user=u.username, database=u.database
        )
    except pymysql.err.OperationalError:
        return False
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (u.database,)
        )
        n = cur.fetchone()[0]
    conn.close()
    return n == len(tpch.TABLES)


if __name__ == "__main__":
    main()
