"""DuckDB's own `postgres` extension: the baseline for DuckDB files and Parquet sources.

Issue 19 asks the workbench to copy a DuckDB file or Parquet files into PostgreSQL at 0.9x
or better of DuckDB doing it itself: `ATTACH ... (TYPE postgres)` and `INSERT INTO pg.t
SELECT * FROM src.t`. DuckDB installs extensions from extensions.duckdb.org, which these
machines cannot reach; PyPI carries them as `duckdb-extension-<name>` wheels, each built for
one DuckDB release, older than the project's own `duckdb`. So the baseline runs in its own
virtualenv, `.venv-duckdb` (created on first use, git-ignored), with that release, by this
file as a worker script (`python duckdb_baseline.py make|copy ...`); the sample files are
written by that older DuckDB too, so that both releases read them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv-duckdb"
DUCKDB = "1.5.5"  # the newest release with a postgres_scanner wheel on PyPI


def python() -> Path:
    """The Python of .venv-duckdb, created with DuckDB and its postgres extension if missing."""
    exe = VENV / "bin" / "python"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = subprocess.run(
        [str(exe), "-c", "import duckdb, duckdb_extension_postgres_scanner"],
        capture_output=True,
    )
    if probe.returncode != 0:
        subprocess.run(
            [str(exe), "-m", "pip", "install", "-q", f"duckdb=={DUCKDB}",
             f"duckdb-extension-postgres_scanner=={DUCKDB}"],
            check=True,
        )  # fmt: skip
    return exe


def make_sources(tables: dict[str, str], folder: Path, db: Path, parquet: Path) -> None:
    """TPC-H's ``.tbl`` files in ``folder`` as a DuckDB file (the tables' DDL, keys included)
    and as one Parquet folder per table (``parquet/<table>/part-0.parquet``)."""
    if db.exists():
        return
    subprocess.run(
        [str(python()), __file__, "make", json.dumps(tables), str(folder), str(db), str(parquet)],
        check=True,
    )


def copy_command(kind: str, source: Path, target_dsn: str, tables: list[str]) -> list[str]:
    """The baseline's command: ``kind`` "duckdb" (a file) or "parquet" (a folder)."""
    return [str(python()), __file__, "copy", kind, str(source), target_dsn, *tables]


# --- the worker, run by .venv-duckdb's Python ---------------------------------------------


def _make(tables: dict[str, str], folder: Path, db: Path, parquet: Path) -> None:
    import duckdb

    partial = db.with_suffix(".partial")  # renamed once whole: a failed run leaves no file
    partial.unlink(missing_ok=True)
    conn = duckdb.connect(str(partial))
    for name, columns in tables.items():
        conn.execute(f"CREATE TABLE {name} ({columns})")
        with open(folder / f"{name}.tbl") as fh:
            fields = len(fh.readline().rstrip("\n").split("|")) - 1  # each line ends with |
        typed = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(fields))
        conn.execute(
            f"INSERT INTO {name} SELECT * EXCLUDE (unused) FROM read_csv("
            f"'{folder / name}.tbl', delim='|', header=false, auto_detect=false, quote='',"
            f" escape='', columns={{{typed}, 'unused': 'VARCHAR'}})"
        )
        (parquet / name).mkdir(parents=True, exist_ok=True)
        conn.execute(f"COPY {name} TO '{parquet / name}/part-0.parquet' (FORMAT parquet)")
    conn.close()
    partial.rename(db)


def _copy(kind: str, source: Path, target_dsn: str, tables: list[str]) -> None:
    """Each table by ``INSERT INTO pg.public.t SELECT * FROM ...``, two at a time (as the
    pipes run), into tables the caller created."""
    import duckdb
    import duckdb_extension_postgres_scanner as ext

    extension = next(Path(ext.__path__[0]).rglob("*.duckdb_extension"))
    conn = duckdb.connect()
    conn.execute(f"LOAD '{extension}'")
    conn.execute(f"ATTACH '{target_dsn}' AS pg (TYPE postgres)")
    if kind == "duckdb":
        conn.execute(f"ATTACH '{source}' AS src (READ_ONLY)")
    pending, lock, errors = list(tables), threading.Lock(), []

    def worker() -> None:
        cur = conn.cursor()
        while True:
            with lock:
                if not pending:
                    return
                table = pending.pop(0)
            parquet = f"read_parquet('{source / table}/*.parquet')"
            origin = f"src.{table}" if kind == "duckdb" else parquet
            try:
                cur.execute(f"INSERT INTO pg.public.{table} SELECT * FROM {origin}")
            except Exception as exc:  # reported by the caller's failed run
                errors.append(f"{table}: {exc}")

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit("\n".join(errors))


if __name__ == "__main__":
    started = time.monotonic()
    if sys.argv[1] == "make":
        _make(json.loads(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
    else:
        _copy(sys.argv[2], Path(sys.argv[3]), sys.argv[4], sys.argv[5:])
    print(f"{time.monotonic() - started:.1f}")
