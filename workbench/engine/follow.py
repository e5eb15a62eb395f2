"""Following a source's changes after a copy, exactly once.

A copy started with ``follow=True`` records where the source's change stream ends *before*
it reads a row. Every change committed after that point is then applied to the target by
key, in source commit order: an insert or update becomes an upsert of the row as it is
after the change, a delete (and the old key of an update that changed the key) a delete.
Replayed on top of a copy that read some of those changes already, the same sequence leaves
each row as the source's last change left it: applying a change twice, or to a row that
already has it, changes nothing. (AWS DMS's "full load, then cached changes" works the same
way; the copy needs no snapshot shared by its parallel readers.)

Changes are applied in batches of whole source transactions; each batch commits in the
target together with the position just after its last transaction
(``_workbench.follow_positions``), so a follower killed at any moment resumes from the last
batch it committed: nothing is applied twice or lost. A table without a key is refused
before anything is applied; a statement that changes a followed table's definition stops
the follower with the statement named, after the changes before it are applied.

MySQL/MariaDB sources are read from their binary log (``connectors.mysql_binlog``),
PostgreSQL sources through logical replication (``connectors.postgres_changes``: a slot and a
publication of the job's, dropped at its cut-over).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from itertools import chain, islice
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import sql

from workbench.connectors import connect
from workbench.connectors.changes import Commit, Position, RowChange, SchemaChange
from workbench.engine import bookkeeping, cascades, records
from workbench.engine.copy import hide_values, prefetch
from workbench.engine.plan import TablePlan
from workbench.engine.repair import replan
from workbench.engine.targets import run_statements
from workbench.errors import (
    CannotConnectError,
    ConfigurationError,
    InvalidInputError,
    WorkbenchError,
)
from workbench.schema.ddl import APPLYING_CHANGES
from workbench.schema.model import Table
from workbench.store import Store, jobs
from workbench.transforms.rules import ColumnTransform, apply_transforms
from workbench.urls import mask_url

log = logging.getLogger(__name__)

_POSITIONS = """
CREATE TABLE IF NOT EXISTS _workbench.follow_positions (
    job_key text PRIMARY KEY,
    log_file text NOT NULL,
    log_offset bigint NOT NULL,
    changes_applied bigint NOT NULL DEFAULT 0,
    source_committed_at timestamptz,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class FollowStoppedError(WorkbenchError):
    """The follower stopped on something it must not apply by itself (a DDL statement)."""

    exit_code = 1


@dataclass
class FollowResult:
    job_id: int
    changes: int = 0  # row changes applied in this run
    tables: dict[str, int] = field(default_factory=dict)  # ... per source table
    changes_per_second: float = 0.0  # ... over this run so far
    changes_total: int = 0  # ... by every run of this job's follower
    transactions: int = 0
    position: dict[str, Any] = field(default_factory=dict)  # where the next run starts
    seconds_behind: float | None = None  # now - the last applied commit's source time
    changes_behind: int = 0  # row changes read from the source and not yet applied
    caught_up: bool = False
    seconds: float = 0.0
    # constraints the copy left for the caught-up follower (foreign keys, checks, sequences)
    constraints_built: int = 0
    constraints_failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def start_position(
    source_url: str,
    timeout: float,
    options: dict[str, Any],
    tables: Sequence[Table],
    job_key: str,
) -> Position:
    """Where a copy that is to be followed starts: checked and read before its first row."""
    connector = connect(source_url, connect_timeout=timeout, options=options)
    try:
        problems = connector.change_stream_problems()
        if problems is None:
            raise InvalidInputError(
                f"{mask_url(source_url)} has no change stream to follow (files and SQLite): "
                "copy it again to refresh the target"
            )
        if problems:
            raise ConfigurationError(
                f"{mask_url(source_url)} cannot be followed: "
                + "; ".join(map(str, problems))
                + " (`workbench doctor --project P --follow` checks them)"
            )
        return connector.start_change_stream(tables, job_key)
    finally:
        connector.close()


def end_position(source_url: str, timeout: float, options: dict[str, Any], at: Position) -> None:
    """Release what following held on the source (a PostgreSQL slot keeps WAL until dropped)."""
    connector = connect(source_url, connect_timeout=timeout, options=options)
    try:
        connector.end_change_stream(at)
    finally:
        connector.close()


@dataclass(frozen=True)
class _Table:
    """How one followed source table lands in the target: its columns' names there, its key,
    and the copy's transforms and masks (None: the columns are only renamed)."""

    target: sql.Composable
    columns: dict[str, str]  # source column -> target column
    keys: tuple[str, ...]  # source key columns
    transforms: tuple[ColumnTransform, ...] | None = None
    salt: str = ""
    # statements rendered once per set of target columns (a row event carries all of them)
    _rendered: dict[tuple[str, ...], Any] = field(default_factory=dict, compare=False)
    complete: dict[str, None] = field(default_factory=dict, compare=False)  # see _lacking
    # source column -> its values made what the copy loads into the target's type
    adapters: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict, compare=False)

    @cached_property
    def target_keys(self) -> tuple[str, ...]:
        return tuple(self.columns[k] for k in self.keys)

    @cached_property
    def renames_nothing(self) -> bool:
        return all(source == target for source, target in self.columns.items())

    def to_target(self, rows: list[dict[str, Any]], table: str) -> list[dict[str, Any]]:
        """Source rows as the copy writes them: renamed, and transformed and masked by the
        copy's rules (vectorized over the batch's rows of this table)."""
        if self.adapters:
            rows = [_adapted(row, self.adapters) for row in rows]
        if self.transforms is None:
            shape = rows[0].keys() if rows else None
            if (self.renames_nothing and shape is not None and shape <= self.columns.keys()
                    and all(row.keys() == shape for row in rows)):  # fmt: skip
                return rows  # the rows as they are (nobody changes them)
            return [{self.columns[c]: v for c, v in row.items() if c in self.columns}
                    for row in rows]  # fmt: skip
        batch = pa.RecordBatch.from_pylist(rows)
        batch = pa.RecordBatch.from_arrays(
            [_widened(c) for c in batch.columns], names=batch.schema.names
        )
        out, rejected = apply_transforms(batch, list(self.transforms), self.salt)
        if rejected:
            first = min(rejected)
            raise FollowStoppedError(
                f"A change to {table} does not fit the target: {hide_values(rejected[first])} "
                f"({len(rejected)} row(s) in this batch). Nothing of the batch was applied; "
                "fix the mapping's transform (or the source row), then run the follower again.",
                table=table,
            )
        converted: list[dict[str, Any]] = out.to_pylist()
        return converted

    def upsert(self, row: dict[str, Any]) -> tuple[str, list[Any]]:
        names = tuple(row)
        statement: str | None = self._rendered.get(names)
        if statement is None:
            statement = self._rendered[names] = self._upsert_sql(names)
        return statement, list(row.values())

    def _upsert_sql(self, names: tuple[str, ...]) -> str:
        keys = self.target_keys
        update = [c for c in names if c not in keys]
        return (
            sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO {}")
            .format(
                self.target,
                sql.SQL(", ").join(map(sql.Identifier, names)),
                sql.SQL(", ").join(sql.Placeholder() * len(names)),
                sql.SQL(", ").join(map(sql.Identifier, keys)),
                sql.SQL("UPDATE SET {}").format(
                    sql.SQL(", ").join(
                        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in update
                    )
                )
                if update
                else sql.SQL("NOTHING"),
            )
            .as_string(None)
        )

    def merge_staged(self, stage: sql.Identifier, names: tuple[str, ...]) -> tuple[str, str]:
        """The DELETE of the target rows whose keys ``stage`` holds as gone, and the
        INSERT ... ON CONFLICT of the rows it holds as present (rendered once per stage)."""
        statements = self._rendered.get(("stage", *names))
        if statements is None:
            keys = self.target_keys
            on_keys = sql.SQL(" AND ").join(
                sql.SQL("t.{0} = s.{0}").format(sql.Identifier(k)) for k in keys
            )
            delete = sql.SQL("DELETE FROM {} t USING {} s WHERE NOT s._wb_present AND {}").format(
                self.target, stage, on_keys
            )
            columns = sql.SQL(", ").join(map(sql.Identifier, names))
            upsert = self.upsert(dict.fromkeys(names))[0]
            values = (
                sql.SQL("VALUES ({})")
                .format(sql.SQL(", ").join(sql.Placeholder() * len(names)))
                .as_string(None)
            )
            chosen = sql.SQL("SELECT {} FROM {} WHERE _wb_present").format(columns, stage)
            statements = (delete.as_string(None), upsert.replace(values, chosen.as_string(None), 1))
            self._rendered[("stage", *names)] = statements
        return statements

    def delete(self, row: dict[str, Any]) -> tuple[str, list[Any]]:
        """Delete the target row whose (target) key ``row`` holds."""
        statement = self._rendered.get(())
        if statement is None:
            statement = self._rendered[()] = (
                sql.SQL("DELETE FROM {} WHERE {}")
                .format(
                    self.target,
                    sql.SQL(" AND ").join(
                        sql.SQL("{} = %s").format(sql.Identifier(k)) for k in self.target_keys
                    ),
                )
                .as_string(None)
            )
        return statement, [row[k] for k in self.target_keys]


def _adapted(row: dict[str, Any], adapters: Mapping[str, Callable[[Any], Any]]) -> dict[str, Any]:
    changed = {c: f(row[c]) for c, f in adapters.items() if row.get(c) is not None}
    return {**row, **changed} if changed else row


def _bit_as_boolean(value: Any) -> Any:
    """A BIT(1) ('0'/'1' in the change stream) as the copy loads it: its value <> 0."""
    return value.strip("0") != "" if isinstance(value, str) else value


def _as_boolean(value: Any) -> Any:
    """MySQL's BOOL (tinyint(1)) as the copy loads it: 0/1 (other values are refused, not
    guessed)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    if value in (0, 1):
        return bool(value)
    raise FollowStoppedError(
        f"A change holds {value!r} for a boolean column (MySQL's tinyint(1) holds 0 or 1 as "
        "booleans): nothing of its batch was applied. Map the column to smallint, or fix the "
        "source row, then run the follower again."
    )


def _as_members(value: Any) -> Any:
    """A SET's 'a,b' as the copy loads it into text[]: its members ('' is none)."""
    return value if not isinstance(value, str) else ([] if value == "" else value.split(","))


def _as_time(value: Any) -> Any:
    """A TIME read as a span (timedelta) loaded into a time of day."""
    if isinstance(value, dt.timedelta):
        return (
            (dt.datetime.min + value).time()
            if dt.timedelta(0) <= value < dt.timedelta(days=1)
            else value
        )  # out of range: left for PostgreSQL to refuse, as the copy's load does
    return value


def _span_as_text(value: Any) -> Any:
    """A TIME span as the copy loads it into an interval: MySQL's own text, hours unbounded
    ('-838:59:59'), which PostgreSQL keeps in the interval's time part (a timedelta would be
    sent as days and a time, equal as an interval but not as the text validation compares)."""
    if not isinstance(value, dt.timedelta):
        return value
    micros = abs(value) // dt.timedelta(microseconds=1)
    seconds, micro = divmod(micros, 1_000_000)
    hours, rest = divmod(seconds, 3600)
    text = f"{'-' if value < dt.timedelta(0) else ''}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return text + (f".{micro:06d}" if micro else "")


def _padded(width: int) -> Callable[[Any], Any]:
    """A BINARY(n) as a SELECT returns it: padded with zero bytes to n (the binary log keeps
    the value without its trailing zeros)."""

    def pad(value: Any) -> Any:
        if isinstance(value, str):  # the library's empty value (every byte zero)
            value = value.encode()
        return value.ljust(width, b"\0") if isinstance(value, bytes) else value

    return pad


def _stored_as_text(kind: str) -> Callable[[Any], Any]:
    """MariaDB's UUID, INET6 and INET4, logged as their 16 or 4 bytes (trailing zero bytes
    left out, as for BINARY), as their text: what the copy reads."""
    texts: dict[str, tuple[int, Callable[[bytes], str]]] = {
        "uuid": (16, lambda b: str(uuid.UUID(bytes=b))),
        "inet6": (16, lambda b: str(ipaddress.IPv6Address(b))),
        "inet4": (4, lambda b: str(ipaddress.IPv4Address(b))),
    }
    width, text = texts[kind]
    pad = _padded(width)

    def convert(value: Any) -> Any:
        value = pad(value)
        return text(value) if isinstance(value, bytes) else value

    return convert


def _invalid_enum(members: tuple[str, ...], invalid: str, column: str) -> Callable[[Any], Any]:
    """MySQL's ENUM error value '' (an invalid value stored, index 0), as the copy's
    ``enum_invalid`` option has it: NULL, kept, or refused (a change has no quarantine)."""

    def convert(value: Any) -> Any:
        if value != "" or "" in members or invalid == "keep":
            return value
        if invalid == "null":
            return None
        raise FollowStoppedError(
            f"A change holds the ENUM error value '' in column {column} (an invalid value "
            "stored), which this job refuses (enum_invalid='quarantine'): nothing of its "
            "batch was applied. Fix the source row, then run the follower again."
        )

    return convert


def _adapters(
    table: _Table, types: Mapping[str, str], source: Table, enum_invalid: str = "null"
) -> dict[str, Callable[[Any], Any]]:
    """Per source column, what makes a change's value the copy's for its target type: the
    change stream holds the source's stored values, the copy read them through SQL."""
    out: dict[str, Callable[[Any], Any]] = {}
    declared = {c.name: c.native.name for c in source.columns}
    widths = {c.name: c.native.length for c in source.columns}
    members = {c.name: c.native.values for c in source.columns}
    for name, target in table.columns.items():
        kind = types.get(target, "")
        if declared.get(name) == "enum":
            out[name] = _invalid_enum(members[name], enum_invalid, name)
        elif kind == "boolean" and declared.get(name) == "bit":
            out[name] = _bit_as_boolean
        elif kind == "boolean" and declared.get(name) in ("tinyint", "smallint", "int"):
            out[name] = _as_boolean
        elif kind.endswith("[]") and declared.get(name) == "set":
            out[name] = _as_members
        elif declared.get(name) in ("uuid", "inet6", "inet4"):
            out[name] = _stored_as_text(declared[name])
        elif declared.get(name) == "binary" and widths.get(name):
            out[name] = _padded(int(widths[name] or 0))
        elif kind == "interval" and declared.get(name) == "time":
            out[name] = _span_as_text
        elif kind.startswith("time") and not kind.startswith("timestamp"):
            out[name] = _as_time
    return out


def _widened(column: pa.Array) -> pa.Array:
    """A column typed from a few rows' values, widened to what a whole table's read gives:
    decimals to full precision (a transform's default or cast must fit), and a column NULL in
    every row of the batch, which has no type yet, to text."""
    if pa.types.is_null(column.type):
        return column.cast(pa.string())
    if pa.types.is_decimal(column.type):
        return column.cast(pa.decimal128(38, column.type.scale))
    return column


def _tables(plan_tables: Iterable[TablePlan], salt: str = "") -> dict[str, _Table]:
    out = {}
    for tp in plan_tables:
        if not tp.key_columns:
            raise InvalidInputError(
                f"Table {tp.name} has no primary key or unique key: its changes cannot be "
                "applied by key. Add a key to the source table, or copy the job without it "
                "(--exclude) and copy that table again at cut-over"
            )
        computed = [c.name for c in tp.columns if c.transform is not None and (
            c.transform.expression or c.source is None)]  # fmt: skip
        if computed:
            raise InvalidInputError(
                f"Table {tp.name} has columns computed by the source from SQL expressions "
                f"({', '.join(computed)}): a change record carries stored values only. Follow "
                "a job without them, or copy that table again at cut-over"
            )
        moved = any(c.transform is not None and not c.transform.is_identity for c in tp.columns)
        columns = {c.source: c.name for c in tp.columns if c.source}
        target = sql.Identifier(tp.target_schema, tp.target_name)
        out[tp.source.name] = _Table(target, columns, tuple(tp.key_columns),
                                     tp.transforms if moved else None, salt)  # fmt: skip
    return out


def _target_columns(
    conn: psycopg.Connection, plan_tables: Iterable[TablePlan]
) -> dict[str, dict[str, str]]:
    """Source table -> the columns its target table has now, with their types."""
    out = {}
    for tp in plan_tables:
        rows = conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
            " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped",
            (tp.target_schema, tp.target_name),
        ).fetchall()
        out[tp.source.name] = {r[0]: r[1] for r in rows}
    return out


def _lacking(table: _Table, change: RowChange, columns: Mapping[str, str]) -> list[str]:
    """Source columns of ``change`` with no column in the target (a column added since the
    copy: the follower must not drop its values). Rows of one table have the same columns
    until its definition changes: the last set found complete is not looked at again."""
    row = change.after if change.after is not None else change.before or {}
    if len(row) == len(table.complete) and row.keys() == table.complete:
        return []
    lacking = [c for c in row if c in table.columns and table.columns[c] not in columns]
    if not lacking:
        table.complete.clear()
        table.complete.update(dict.fromkeys(row))
    return lacking


def _saved_position(conn: psycopg.Connection, job_key: str) -> tuple[Position, int] | None:
    row = conn.execute(
        "SELECT log_file, log_offset, changes_applied FROM _workbench.follow_positions"
        " WHERE job_key = %s",
        (job_key,),
    ).fetchone()
    return (Position(row[0], int(row[1])), int(row[2])) if row else None


SETVAL = "SELECT setval("  # a deferred statement that moves a sequence past its column's maximum
RETRIES = 4  # attempts after the first when a server goes away (2, 4, 8, 8 s apart)


class _Staging:
    """Per target table and set of columns, a temporary table of the connection into which a
    batch's net rows are copied (COPY: psycopg formats rows in C, where array parameters were
    dumped value by value in Python), then merged by one DELETE and one INSERT. Created
    outside the batch's transaction: a batch rolled back must not take its stage with it."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.stages: dict[tuple[str, tuple[str, ...]], sql.Identifier] = {}

    def stage(self, name: str, table: _Table, names: tuple[str, ...]) -> sql.Identifier:
        stage = self.stages.get((name, names))
        if stage is None:
            stage = sql.Identifier(f"wb_follow_stage_{len(self.stages)}")
            with self.conn.transaction():  # emptied by each commit; the target's types
                self.conn.execute(
                    sql.SQL(
                        "CREATE TEMPORARY TABLE {} ON COMMIT DELETE ROWS AS"
                        " SELECT true AS _wb_present, {} FROM {} WITH NO DATA"
                    ).format(stage, sql.SQL(", ").join(map(sql.Identifier, names)), table.target)
                )
            self.stages[(name, names)] = stage
        return stage


Net = dict[str, dict[tuple[str, ...], list[tuple[bool, dict[str, Any]]]]]


def _apply(
    conn: psycopg.Connection,
    tables: dict[str, _Table],
    changes: list[RowChange],
    job_key: str,
    commit: Commit,
    applied_before: int,
    staging: _Staging,
    rules: cascades.Rules,
) -> None:
    """One batch of whole source transactions and the position after them, in one target
    transaction: both or neither. (A batch may be empty: the position alone moves on.)"""
    refs = rules.references
    after, before = _in_target(tables, changes, refs)
    # in order: a change whose foreign-key actions the follower applies, and a key change of
    # a referenced table (as an UPDATE: the set-based form deletes and inserts)
    ordered = bool(refs) and any(
        rules.acted(c) or (c.table in refs and _moves_key(tables[c.table], c) and c.op == "update")
        for c in changes
    )
    net = {} if ordered else _net(tables, changes, after, before)
    stages = {(name, names): staging.stage(name, tables[name], names)
              for name, groups in net.items() for names in groups}  # fmt: skip
    with conn.transaction(), conn.cursor() as cur:
        try:
            if ordered:
                _apply_in_order(cur, tables, changes, after, before, rules)
            else:
                with conn.transaction():  # a savepoint: the set-based form may fail where ...
                    _apply_net(cur, tables, net, stages)
        except psycopg.OperationalError:
            raise
        except psycopg.DatabaseError as exc:
            if ordered:
                raise
            # ... the source's own order does not (a unique value moved between two rows)
            log.info("Applying the batch change by change: %s", exc)
            _apply_in_order(cur, tables, changes, after, before, rules)
        cur.execute(
            "INSERT INTO _workbench.follow_positions AS p (job_key, log_file, log_offset,"
            " changes_applied, source_committed_at) VALUES (%s, %s, %s, %s, to_timestamp(%s))"
            " ON CONFLICT (job_key) DO UPDATE SET log_file = EXCLUDED.log_file,"
            " log_offset = EXCLUDED.log_offset, changes_applied = EXCLUDED.changes_applied,"
            " source_committed_at = EXCLUDED.source_committed_at, applied_at = now()",
            (job_key, commit.position.file, commit.position.offset,
             applied_before + len(changes), commit.timestamp),
        )  # fmt: skip


def _moves_key(table: _Table, change: RowChange) -> bool:
    return change.op == "delete" or (
        change.op == "update" and any(change.before[k] != change.after[k] for k in table.keys)  # type: ignore[index]
    )


def _apply_in_order(
    cur: psycopg.Cursor[Any],
    tables: dict[str, _Table],
    changes: list[RowChange],
    after: dict[int, dict[str, Any]],
    before: dict[int, dict[str, Any]],
    rules: cascades.Rules,
) -> None:
    """One statement per change, in the source's order; then, for a table other tables
    refer to, the actions the source applied to them without logging (``cascades``)."""
    refs = rules.references
    for i, change in enumerate(changes):
        table = tables[change.table]
        referenced = change.table in refs
        if referenced and change.op == "update" and _moves_key(table, change):
            _move(cur, table, before[i], after[i])
        else:
            if _moves_key(table, change):
                cur.execute(*table.delete(before[i]))
            if change.after is not None:
                cur.execute(*table.upsert(after[i]))
        if referenced and rules.applied_here and change.op == "delete":
            cascades.on_delete(cur, refs, change.table, before[i])
        elif referenced and rules.applied_here and change.op == "update":
            cascades.on_update(cur, refs, change.table, before[i], after[i])


def _move(
    cur: psycopg.Cursor[Any], table: _Table, before: dict[str, Any], after: dict[str, Any]
) -> None:
    """A key change as an UPDATE of the row (a DELETE and an INSERT would set off the target's
    ON DELETE rules, or be refused by them, once its foreign keys exist)."""
    cur.execute(*table.delete(after))  # a row the copy may hold at the new key already
    names = tuple(after)
    statement = table._rendered.get(("move", *names))
    if statement is None:
        statement = table._rendered[("move", *names)] = (
            sql.SQL("UPDATE {} SET {} WHERE {}")
            .format(
                table.target,
                sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in names),
                sql.SQL(" AND ").join(
                    sql.SQL("{} = %s").format(sql.Identifier(k)) for k in table.target_keys
                ),
            )
            .as_string(None)
        )
    cur.execute(statement, [*after.values(), *(before[k] for k in table.target_keys)])
    if cur.rowcount == 0:  # the copy had not read the row at its old key
        cur.execute(*table.upsert(after))


def _net(
    tables: dict[str, _Table],
    changes: list[RowChange],
    after: dict[int, dict[str, Any]],
    before: dict[int, dict[str, Any]],
) -> Net:
    """The batch's net effect: each key ends as its last change left it, a row (present) or
    none (gone, its last row known), grouped per table and set of columns."""
    ends: dict[str, dict[tuple[Any, ...], tuple[bool, dict[str, Any]]]] = {}
    for i, change in enumerate(changes):
        table = tables[change.table]
        keys = table.target_keys
        last = ends.setdefault(change.table, {})
        if _moves_key(table, change):
            row = before[i]
            last[tuple(row[k] for k in keys)] = (False, row)
        if change.after is not None:
            row = after[i]
            last[tuple(row[k] for k in keys)] = (True, row)
    net: Net = {}
    for name, rows in ends.items():
        groups = net.setdefault(name, {})
        for present, row in rows.values():
            groups.setdefault(tuple(row), []).append((present, row))
    return net


def _apply_net(
    cur: psycopg.Cursor[Any],
    tables: dict[str, _Table],
    net: Net,
    stages: dict[tuple[str, tuple[str, ...]], sql.Identifier],
) -> None:
    """The net effect, set-based: per table and set of columns, the rows copied into the
    stage, then one DELETE of the keys that end gone and one upsert of the rows that end
    present; that gives the state the changes one by one give (the target's keys are unique;
    a statement per change costs PostgreSQL a parse, plan and execution each)."""
    for name, groups in net.items():
        table = tables[name]
        for names, rows in groups.items():
            stage = stages[(name, names)]
            columns = sql.SQL(", ").join(map(sql.Identifier, names))
            with cur.copy(
                sql.SQL("COPY {} (_wb_present, {}) FROM STDIN").format(stage, columns)
            ) as copy:
                for present, row in rows:
                    copy.write_row((present, *row.values()))
            delete, upsert = table.merge_staged(stage, names)
            if any(not present for present, _ in rows):
                cur.execute(delete)
            cur.execute(upsert)


def _in_target(
    tables: dict[str, _Table], changes: list[RowChange], refs: cascades.References
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """Each change's row after (to upsert) and, where the change deletes or moves a key or
    changes a row other tables refer to, its row before (whose key to delete, or whose
    referenced values to follow), as the target holds them: transformed per table over the
    whole batch, then indexed by change."""
    sides: dict[tuple[str, bool], tuple[list[int], list[dict[str, Any]]]] = {}
    for i, change in enumerate(changes):
        if change.after is not None:
            at, rows = sides.setdefault((change.table, True), ([], []))
            at.append(i)
            rows.append(change.after)
        if _moves_key(tables[change.table], change) or (
            change.op == "update" and change.table in refs
        ):
            at, rows = sides.setdefault((change.table, False), ([], []))
            at.append(i)
            rows.append(change.before)  # type: ignore[arg-type]  # a delete or an update
    after: dict[int, dict[str, Any]] = {}
    before: dict[int, dict[str, Any]] = {}
    for (name, is_after), (at, rows) in sides.items():
        converted = tables[name].to_target(rows, name)
        (after if is_after else before).update(zip(at, converted, strict=True))
    return after, before


def follow_job(
    store: Any,
    job_id: int,
    *,
    batch_changes: int = 1000,
    max_transactions: int | None = None,
    stop: threading.Event | None = None,
    touched: dict[str, set[tuple[Any, ...]]] | None = None,
) -> FollowResult:
    """Apply the source's changes since the copy began (or since the last applied batch) up
    to the end of the change stream as it is now; return what was applied and where it
    stands. ``max_transactions`` stops early (a follower's run can be cut anywhere);
    ``touched`` collects, per source table, the key of every row a change applied touched."""
    started = time.monotonic()
    job = records.load_job(store, job_id, "followed")
    stats = jobs.get_job(store, job_id).statistics
    begin = stats.get("follow_from")
    if not begin:
        raise InvalidInputError(
            f"Job {job_id} was not started with --follow: no change-stream position was "
            "recorded before it copied. Copy again with --follow."
        )
    plan, _, _, _ = replan(store, job_id, "followed")  # the copy's plan, from the source now
    planned = _tables(plan.tables, plan.salt)
    result = FollowResult(job_id)
    progress = _Progress(store, job_id, started)
    timeout = int(store.settings.connect_timeout)

    def run_once() -> tuple[Commit | None, tuple[Position, int] | None]:
        """From the position the target holds, to the end of the stream or a stop."""
        # autocommit: each batch's `transaction()` is a real one, committed when its block ends
        with psycopg.connect(job.target_url, connect_timeout=timeout, autocommit=True) as conn:
            # as the copy's sessions: timestamps without an offset are UTC (the target's own
            # default time zone would shift every MySQL TIMESTAMP the follower writes)
            conn.execute("SET TIME ZONE 'UTC'")
            conn.execute("SET datestyle TO 'ISO, YMD'")
            bookkeeping.ensure_bookkeeping(conn)
            conn.execute(APPLYING_CHANGES)  # the source's ON UPDATE times, not the target's
            with conn.transaction():
                conn.execute(_POSITIONS)
            target_columns = _target_columns(conn, plan.tables)
            sources = {tp.source.name: tp.source for tp in plan.tables}
            invalid = str(job.options.type_options.get("enum_invalid", "null"))
            tables = {n: replace(t, adapters=_adapters(t, target_columns[n], sources[n],
                                                       invalid))
                      for n, t in planned.items()}  # fmt: skip
            staging = _Staging(conn)
            saved = _saved_position(conn, job.job_key)
            position, applied = saved or (Position(begin["file"], int(begin["offset"])), 0)
            pending: list[RowChange] = []
            in_transaction: list[RowChange] = []
            last: Commit | None = None
            # the change stream is decoded in a thread of its own while this one applies
            source = connect(job.source_url, connect_timeout=timeout,
                             options=job.options.source_options)  # fmt: skip
            changes = source.read_changes(position, [tp.source for tp in plan.tables])
            rules = cascades.Rules(cascades.references(plan.tables),
                                   applied_here=not source.logs_cascaded_rows)  # fmt: skip
            # handed over in lists: a queue's locks per change cost as much as applying it
            read, applied_before = [0], result.changes

            def chunk() -> list[Any]:
                items = list(islice(changes, 500))
                read[0] += sum(1 for i in items if isinstance(i, RowChange))
                return items

            def waiting() -> int:  # read by the thread ahead of this one, not applied yet
                return read[0] - (result.changes - applied_before)

            fetched = prefetch(iter(chunk, []), depth=40)
            try:
                for item in chain.from_iterable(fetched):
                    if isinstance(item, RowChange):
                        lacking = _lacking(tables[item.table], item, target_columns[item.table])
                        if lacking:  # the source's definition changed (PostgreSQL says no DDL)
                            _apply(conn, tables, pending, job.job_key,
                                   last or Commit(position, int(time.time())), applied,
                                   staging, rules)  # fmt: skip
                            _count(result, pending, tables, touched, rules)
                            raise FollowStoppedError(
                                f"Job {job_id}'s follower stopped: a change of {item.table} holds "
                                f"column(s) {', '.join(lacking)} that the target table lacks (the "
                                "source's table was altered). Add them to the target with their "
                                f"PostgreSQL types, then run `workbench follow {job_id}` again.",
                                job_id=job_id,
                                columns=lacking,
                            )
                        in_transaction.append(item)
                    elif isinstance(item, Commit):
                        pending += in_transaction
                        in_transaction = []
                        last = item
                        result.transactions += 1
                        done = (
                            max_transactions is not None and result.transactions >= max_transactions
                        )
                        if len(pending) >= batch_changes or done:
                            _apply(
                                conn, tables, pending, job.job_key, item, applied, staging, rules
                            )
                            applied += len(pending)
                            _count(result, pending, tables, touched, rules)
                            pending = []
                            progress.applied(result, item.timestamp, waiting())
                        if done or (stop is not None and stop.is_set()):
                            break
                    elif isinstance(item, SchemaChange):
                        # what came before is applied; the position moves past the statement, whose
                        # change the user makes in the target before the next run
                        _apply(conn, tables, pending, job.job_key,
                               Commit(item.position, last.timestamp if last else int(time.time())),
                               applied, staging, rules)  # fmt: skip
                        _count(result, pending, tables, touched, rules)
                        raise FollowStoppedError(
                            f"Job {job_id}'s follower stopped at {item.position.file}:"
                            f"{item.position.offset}: the source ran `{item.statement}` on a "
                            "followed table. Make the same change in the target (for ADD "
                            "COLUMN: add the column there with its PostgreSQL type), then run "
                            f"`workbench follow {job_id}` again to go on after it.",
                            job_id=job_id,
                            statement=item.statement,
                        )
                else:
                    result.caught_up = True
                result.changes_behind = 0 if result.caught_up else max(0, waiting())
                if pending and last is not None:
                    _apply(conn, tables, pending, job.job_key, last, applied, staging, rules)
                    _count(result, pending, tables, touched, rules)
            finally:
                fetched.close()
                source.close()
            now_at = _saved_position(conn, job.job_key)
        return last, now_at

    for attempt in range(1, RETRIES + 2):
        try:
            last, now_at = run_once()
            break
        except (psycopg.OperationalError, CannotConnectError) as exc:
            # a server that restarted or a link that dropped: the batch in flight was rolled
            # back with its position, so the next attempt goes on from the last one committed
            side = "source" if isinstance(exc, CannotConnectError) else "target"
            if attempt > RETRIES:
                raise CannotConnectError(
                    f"Job {job_id}'s follower lost the {side} {attempt} times ({exc}): what "
                    "was applied stays applied with its position, nothing twice. Run "
                    f"`workbench follow {job_id}` again once it is reachable.",
                    job_id=job_id,
                ) from exc
            jobs.log_event(store, job_id, "WARNING",
                           f"follower: retried after losing the {side}: {exc}")  # fmt: skip
            log.warning("Follower of job %s lost the %s (%s); retrying", job_id, side, exc)
            time.sleep(min(2.0**attempt, 8.0))
    deferred = list(stats.get("deferred") or [])
    if result.caught_up and deferred:  # the target now holds what the source committed
        failed = run_statements(job.target_url, deferred, store.settings.connect_timeout, 1)
        result.constraints_built = len(deferred) - len(failed)
        result.constraints_failed = [f"{u.statement}: {u.error}" for u in failed]
        # the sequences move on with every insert followed since: the cut-over sets them again
        sequences = [s for s in deferred if s.startswith(SETVAL)]
        jobs.update_job_statistics(store, job_id, {"deferred": [u.statement for u in failed],
                                                   "sequences": sequences})  # fmt: skip
    if now_at is not None:
        result.position = now_at[0].as_dict()
        result.changes_total = now_at[1]
    if last is not None:
        result.seconds_behind = max(0.0, time.time() - last.timestamp)
    elif result.caught_up:
        result.seconds_behind = 0.0
    result.seconds = round(time.monotonic() - started, 3)
    result.changes_per_second = round(result.changes / result.seconds, 1) if result.seconds else 0
    jobs.update_job_statistics(store, job_id, {"follow": result.as_dict()})
    return result


def _count(
    result: FollowResult,
    applied: list[RowChange],
    tables: dict[str, _Table],
    touched: dict[str, set[tuple[Any, ...]]] | None,
    rules: cascades.Rules,
) -> None:
    result.changes += len(applied)
    for change in applied:
        result.tables[change.table] = result.tables.get(change.table, 0) + 1
        if touched is not None:  # the source keys each change touched, before and after
            keys = tables[change.table].keys
            for row in (change.before, change.after):
                if row is not None:
                    touched.setdefault(change.table, set()).add(tuple(row.get(k) for k in keys))
            if rules.acted(change):  # rows no change names: every one
                for child in cascades.reached(rules.references, change.table):
                    touched.setdefault(child, set()).add(("*",))


class _Progress:
    """The follower's lag and pace in the job's statistics while it runs (at most once a
    second): what `workbench jobs`, the monitor and the Prometheus metrics show live."""

    EVERY = 1.0

    def __init__(self, store: Store, job_id: int, started: float) -> None:
        self.store, self.job_id, self.started = store, job_id, started
        self.last = 0.0

    def applied(self, result: FollowResult, committed_at: int, waiting: int) -> None:
        now = time.monotonic()
        if now - self.last < self.EVERY:
            return
        self.last = now
        result.seconds = round(now - self.started, 3)
        result.seconds_behind = max(0.0, time.time() - committed_at)
        result.changes_behind = max(0, waiting)
        result.changes_per_second = round(result.changes / result.seconds, 1)
        jobs.update_job_statistics(self.store, self.job_id, {"follow": result.as_dict()})
