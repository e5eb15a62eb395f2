"""Catching a copy up by a monotonic column, for sources without a change stream to follow.

Where the binlog cannot be read (no REPLICATION privilege, statement-based binlog, a SQLite
or DuckDB file, a PostgreSQL source without logical replication), a table whose rows carry a
column that only grows when a row is written (``updated_at`` maintained on every write, or
an increasing id for append-only tables) can be caught up by it: each run reads the source
rows whose column is at or past the highest value the target holds, through the copy's
mapping, transforms and masks, and upserts them by the table's key.

Its limits, said wherever it is chosen (``workbench follow JOB --by COLUMN``):
- **deletes are not seen**: a row deleted in the source stays in the target;
- a row changed without moving the column (a write that does not touch ``updated_at``) is not
  seen either; the cut-over's validation would find it;
- rows at the high-water mark itself are read again each run (harmless: the upsert is
  idempotent), so a mark that many rows share makes every run re-read them.

The high-water mark is the highest value the target holds (the copy's rows, then each run's),
so nothing else needs keeping; each table's run is one target transaction, so a run cut
anywhere is simply repeated.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import psycopg
from psycopg import sql

from workbench.connectors import connect
from workbench.connectors.base import REJECT_COLUMN, Partition
from workbench.connectors.pgcopy import copy_batch
from workbench.engine.copy import count_nulled, reader_rejects
from workbench.engine.plan import TablePlan
from workbench.engine.repair import replan
from workbench.engine.run import partition_task
from workbench.errors import InvalidInputError
from workbench.schema.ddl import APPLYING_CHANGES
from workbench.store import Store, jobs
from workbench.transforms.rules import apply_transforms

LIMITS = (
    "catching up by a column does not see deleted rows, nor rows changed without moving the "
    "column; the cut-over's validation names any difference left"
)


@dataclass
class CatchUpResult:
    job_id: int
    tables: dict[str, int] = field(default_factory=dict)  # rows upserted per table
    rejected: dict[str, int] = field(default_factory=dict)  # rows a transform refused
    marks: dict[str, Any] = field(default_factory=dict)  # table -> the new high-water mark
    skipped: dict[str, str] = field(default_factory=dict)  # table -> why it was left out
    seconds: float = 0.0
    limits: str = LIMITS

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def catch_up_job(store: Store, job_id: int, by: str | dict[str, str]) -> CatchUpResult:
    """Upsert into job ``job_id``'s target the source rows whose ``by`` column is at or past
    the target's high-water mark. ``by``: one column for every table that has it, or
    table -> column."""
    started = time.monotonic()
    plan, source_url, target_url, options = replan(store, job_id, "caught up")
    result = CatchUpResult(job_id)
    chosen = _columns(plan.tables, by, result)
    timeout = store.settings.connect_timeout
    source = connect(source_url, connect_timeout=timeout, options=options.source_options)
    try:
        with psycopg.connect(target_url, connect_timeout=int(timeout), autocommit=True) as conn:
            conn.execute("SET TIME ZONE 'UTC'")  # as the copy's sessions (see engine.follow)
            conn.execute("SET datestyle TO 'ISO, YMD'")
            conn.execute(APPLYING_CHANGES)  # the source's ON UPDATE times, not the target's
            for tp, column in chosen:
                _catch_up_table(source, conn, plan, tp, column, source_url, target_url,
                                options, timeout, result)  # fmt: skip
    finally:
        source.close()
    result.seconds = round(time.monotonic() - started, 3)
    jobs.update_job_statistics(store, job_id, {"catch_up": result.as_dict()})
    return result


def _columns(
    tables: list[TablePlan], by: str | dict[str, str], result: CatchUpResult
) -> list[tuple[TablePlan, str]]:
    wanted = by if isinstance(by, dict) else {tp.name: by for tp in tables}
    unknown = set(wanted) - {tp.name for tp in tables} - {tp.source.name for tp in tables}
    if unknown:
        raise InvalidInputError(f"The job copied no table {sorted(unknown)}")
    chosen = []
    for tp in tables:
        column = wanted.get(tp.name) or wanted.get(tp.source.name)
        if column is None:
            result.skipped[tp.name] = "no column chosen"
            continue
        names = {c.name for c in tp.source.columns}
        why = None
        if column not in names:
            why = f"has no column {column!r}"
        elif not tp.key_columns:
            why = "has no primary key or unique key to upsert by"
        elif any(c.source == column and c.transform is not None and not c.transform.is_identity
                 for c in tp.columns):  # fmt: skip
            why = f"its column {column!r} is transformed on the way: no mark to compare"
        if why is not None:
            if isinstance(by, dict):  # named for this table: say so
                raise InvalidInputError(f"Table {tp.name} cannot be caught up by {column}: {why}")
            result.skipped[tp.name] = why
            continue
        chosen.append((tp, column))
    if not chosen:
        raise InvalidInputError(
            "No table can be caught up by "
            + (repr(by) if isinstance(by, str) else "the columns given")
            + ": "
            + "; ".join(f"{t} {why}" for t, why in result.skipped.items())
        )
    return chosen


def _catch_up_table(
    source: Any,
    conn: psycopg.Connection,
    plan: Any,
    tp: TablePlan,
    column: str,
    source_url: str,
    target_url: str,
    options: Any,
    timeout: float,
    result: CatchUpResult,
) -> None:
    target_column = next(c.name for c in tp.columns if c.source == column)
    column_id = sql.Identifier(target_column)
    target = sql.Identifier(tp.target_schema, tp.target_name)
    key_targets = [next(c.name for c in tp.columns if c.source == k) for k in tp.key_columns]
    whole = Partition(tp.source.name, tp.source.schema, 0)
    task = partition_task(plan, tp, whole, source_url, target_url, options, timeout)
    with conn.transaction():
        # the high-water mark is what the target holds: the copy's rows, then each run's
        mark = _one(conn, sql.SQL("SELECT max({}) FROM {}").format(column_id, target))
        since = Partition(tp.source.name, tp.source.schema, 0, key_columns=(column,),
                          lower=None if mark is None else (mark,))  # fmt: skip
        task = replace(task, partition=since)
        conn.execute(
            sql.SQL(
                "CREATE TEMP TABLE wb_catch_up (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP"
            ).format(target)
        )
        cur = conn.cursor()
        read = rejected = 0
        for batch in source.read_partition(tp.source, since, task.read_columns,
                                           task.batch_rows, task.expressions):  # fmt: skip
            batch = count_nulled(batch, {})
            unreadable = reader_rejects(batch)
            if unreadable:
                batch = batch.drop_columns([REJECT_COLUMN])
            out, refused = apply_transforms(batch, list(task.transforms), task.salt)
            bad = set(refused) | set(unreadable)
            if bad:
                keep = [i for i in range(out.num_rows) if i not in bad]
                out = out.take(keep)
                rejected += len(bad)
            read += out.num_rows
            if out.num_rows:
                copy_batch(cur, None, "wb_catch_up", out)
        names = [c.name for c in tp.columns]
        cols = sql.SQL(", ").join(map(sql.Identifier, names))
        updates = [n for n in names if n not in key_targets]
        on_conflict = (
            sql.SQL("DO UPDATE SET ")
            + sql.SQL(", ").join(
                sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(n)) for n in updates
            )
            if updates
            else sql.SQL("DO NOTHING")
        )
        conn.execute(
            sql.SQL(
                "INSERT INTO {target} ({cols}) OVERRIDING SYSTEM VALUE "
                "SELECT {cols} FROM wb_catch_up ON CONFLICT ({keys}) "
            ).format(
                target=target, cols=cols, keys=sql.SQL(", ").join(map(sql.Identifier, key_targets))
            )
            + on_conflict
        )
        new_mark = _one(conn, sql.SQL("SELECT max({})::text FROM {}").format(column_id, target))
    result.tables[tp.name] = read
    result.marks[tp.name] = new_mark
    if rejected:
        result.rejected[tp.name] = rejected


def _one(conn: psycopg.Connection, query: sql.Composed) -> Any:
    row = conn.execute(query).fetchone()
    return None if row is None else row[0]
