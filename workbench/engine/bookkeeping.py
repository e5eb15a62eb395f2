"""The engine's own tables inside the TARGET database (schema ``_workbench``).

Checkpoints live next to the data so that a partition's rows and its checkpoint commit in
one transaction: after any crash a partition is either fully there with its checkpoint, or
absent without one. Quarantined rows are kept there too, beside the table they missed.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from psycopg import sql
from psycopg._encodings import pg2pyenc
from psycopg.types.json import Jsonb

log = logging.getLogger(__name__)

SCHEMA = "_workbench"

_DDL = """
CREATE SCHEMA IF NOT EXISTS _workbench;
CREATE TABLE IF NOT EXISTS _workbench.checkpoints (
    job_key text NOT NULL,
    table_name text NOT NULL,
    partition_index integer NOT NULL,
    rows_read bigint NOT NULL,
    rows_written bigint NOT NULL,
    rows_quarantined bigint NOT NULL,
    bytes bigint NOT NULL DEFAULT 0,
    checksum text,
    done_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_key, table_name, partition_index)
);
CREATE TABLE IF NOT EXISTS _workbench.quarantine (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_key text NOT NULL,
    table_name text NOT NULL,
    partition_index integer NOT NULL,
    source_key jsonb,
    row_data jsonb NOT NULL,
    error text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS quarantine_job_table ON _workbench.quarantine (job_key, table_name);
CREATE TABLE IF NOT EXISTS _workbench.running (
    target_table text PRIMARY KEY,
    job_id bigint NOT NULL,
    job_key text NOT NULL,
    started_at timestamptz NOT NULL
);
"""


def ensure_bookkeeping(conn: psycopg.Connection) -> None:
    """Create the bookkeeping schema once, before partitions fan out (concurrent CREATE races)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('_workbench.bookkeeping'))")
        conn.execute(_DDL)


LOCK_TIMEOUT = "120s"  # a lock held longer belongs to a lost host: see engine.copy KEEPALIVES
# A second attempt at a partition exists only when Dask gave up on the first (its worker lost
# or cut off). After this long, the first attempt's backend is ended rather than waited for:
# its rows roll back with it, and this attempt, or the checkpoint it finds, is the one.
STALE_AFTER = "30s"


def lock_partition(cur: psycopg.Cursor, job_key: str, table: str, index: int) -> None:
    """Serialize two attempts at the same partition (a task Dask re-ran while the first lives).

    Waits STALE_AFTER for the lock, then ends the backend that holds it (a host that vanished
    mid-COPY leaves it "idle in transaction" until TCP gives up) and waits at most
    LOCK_TIMEOUT more, then raises LockNotAvailable (retried as transient)."""
    key = f"{job_key}/{table}"
    try:
        with _savepoint(cur):  # a timeout keeps the partition's transaction usable
            _wait_for_lock(cur, key, index, STALE_AFTER)
        return
    except psycopg.errors.LockNotAvailable:
        pass
    try:
        with _savepoint(cur):
            ended = _end_lock_holders(cur, key, index)
    except psycopg.errors.InsufficientPrivilege as exc:  # another role's backend
        log.warning("partition %s #%d: cannot end its lock's holder: %s", table, index, exc)
        ended = []
    for pid, state, idle in ended:
        log.warning(
            "partition %s #%d: ended the backend %d (%s for %.0f s) that held its lock since a "
            "lost attempt; re-running it here",
            table, index, pid, state, idle,
        )  # fmt: skip
    _wait_for_lock(cur, key, index, LOCK_TIMEOUT)


@contextlib.contextmanager
def _savepoint(cur: psycopg.Cursor) -> Iterator[None]:
    """A savepoint in the caller's transaction (begun implicitly if need be; never committed
    here, as ``connection.transaction()`` would commit a transaction it began)."""
    cur.execute("SAVEPOINT wb_partition_lock")
    try:
        yield
    except BaseException:
        cur.execute("ROLLBACK TO SAVEPOINT wb_partition_lock")
        raise
    cur.execute("RELEASE SAVEPOINT wb_partition_lock")


def _wait_for_lock(cur: psycopg.Cursor, key: str, index: int, timeout: str) -> None:
    cur.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(timeout)))
    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s), %s)", (key, index))


def _end_lock_holders(cur: psycopg.Cursor, key: str, index: int) -> list[tuple[int, str, float]]:
    """End the backends holding the partition's advisory lock; (pid, state, seconds idle) each.

    A login may end its own role's backends; one that may not is left to LOCK_TIMEOUT."""
    cur.execute(
        "SELECT a.pid, coalesce(a.state, '?'),"
        " coalesce(extract(epoch FROM now() - a.state_change), 0)::float8,"
        " pg_terminate_backend(a.pid)"
        " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND l.classid = ((hashtext(%s)::bigint + 4294967296) %% 4294967296)::oid"
        " AND l.objid = %s::oid AND a.pid <> pg_backend_pid()",
        (key, index),
    )
    return [(pid, state, idle) for pid, state, idle, _ in cur.fetchall()]


def find_checkpoint(
    cur: psycopg.Cursor, job_key: str, table: str, index: int
) -> dict[str, Any] | None:
    cur.execute(
        "SELECT rows_read, rows_written, rows_quarantined, bytes, checksum"
        " FROM _workbench.checkpoints"
        " WHERE job_key = %s AND table_name = %s AND partition_index = %s",
        (job_key, table, index),
    )
    row = cur.fetchone()
    if row is None:
        return None
    keys = ("rows_read", "rows_written", "rows_quarantined", "bytes", "checksum")
    return dict(zip(keys, row, strict=True))


def record_checkpoint(
    cur: psycopg.Cursor,
    job_key: str,
    table: str,
    index: int,
    *,
    rows_read: int,
    rows_written: int,
    rows_quarantined: int,
    bytes_sent: int,
    checksum: str | None = None,
) -> None:
    cur.execute(
        "INSERT INTO _workbench.checkpoints (job_key, table_name, partition_index, rows_read,"
        " rows_written, rows_quarantined, bytes, checksum) VALUES (%s,%s,%s,%s,%s,%s,%s,%s)",
        (job_key, table, index, rows_read, rows_written, rows_quarantined, bytes_sent, checksum),
    )


def done_checkpoints(
    conn: psycopg.Connection, job_key: str
) -> dict[tuple[str, int], dict[str, Any]]:
    """Every committed partition of a job: (table, index) -> counts."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT to_regclass('_workbench.checkpoints') IS NOT NULL",
        )
        exists = cur.fetchone()
        if not exists or not exists[0]:
            return {}
        cur.execute(
            "SELECT table_name, partition_index, rows_read, rows_written, rows_quarantined, bytes"
            " FROM _workbench.checkpoints WHERE job_key = %s",
            (job_key,),
        )
        return {
            (t, i): {"rows_read": r, "rows_written": w, "rows_quarantined": q, "bytes": b}
            for t, i, r, w, q, b in cur.fetchall()
        }


def forget_checkpoints(
    conn: psycopg.Connection, job_key: str, table: str, indexes: list[int]
) -> None:
    """Drop checkpoints (in the caller's transaction) so the partitions are copied again."""
    conn.execute(
        "DELETE FROM _workbench.checkpoints WHERE job_key = %s AND table_name = %s"
        " AND partition_index = ANY(%s)",
        (job_key, table, indexes),
    )


def quarantine_rows(
    cur: psycopg.Cursor,
    job_key: str,
    table: str,
    index: int,
    rows: list[tuple[dict[str, Any] | None, dict[str, Any], str]],
) -> None:
    """Store rejected rows: (source key, row as JSON-able dict, error text)."""
    if not rows:
        return
    fits = _encodable(cur.connection)
    cur.executemany(
        "INSERT INTO _workbench.quarantine (job_key, table_name, partition_index, source_key,"
        " row_data, error) VALUES (%s,%s,%s,%s,%s,%s)",
        [
            (
                job_key,
                table,
                index,
                Jsonb(storable(key, fits)) if key is not None else None,
                Jsonb(storable(row, fits)),
                err if fits(err) else err.encode("ascii", "backslashreplace").decode(),
            )
            for key, row, err in rows
        ],
    )


def _encodable(conn: psycopg.Connection) -> Callable[[str], bool]:
    """Whether a text fits the database's encoding (a row refused by a LATIN1 target for a
    character LATIN1 lacks holds that character: jsonb cannot store it there either)."""
    encoding = (conn.info.parameter_status("server_encoding") or "UTF8").upper()
    if encoding in ("UTF8", "UTF-8"):
        return lambda text: True
    python = pg2pyenc(encoding.encode()) if encoding != "SQL_ASCII" else "ascii"

    def fits(text: str) -> bool:
        try:
            text.encode(python)
        except UnicodeEncodeError:
            return False
        return True

    return fits


def storable(value: dict[str, Any], fits: Callable[[str], bool]) -> dict[str, Any]:
    """``value`` as is, or, where some character of it does not fit the database, as its JSON
    text with every such character escaped (``{"json_ascii": "{\"w\": \"\\u20ac\"}"}``:
    ``json.loads`` of that text gives the row back)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    if fits(text):
        return value
    return {"json_ascii": json.dumps(value, ensure_ascii=True, default=str)}


def quarantined(conn: psycopg.Connection, job_key: str, limit: int = 1000) -> list[dict[str, Any]]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT table_name, partition_index, source_key, row_data, error, at"
            " FROM _workbench.quarantine WHERE job_key = %s ORDER BY id LIMIT %s",
            (job_key, limit),
        )
        cols = [d.name for d in cur.description or ()]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
