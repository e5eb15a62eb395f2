"""Copy one partition: read Arrow batches from the source, transform, COPY into the target.

This is the function each Dask task runs. The partition's rows, its quarantined rows and its
checkpoint are written in ONE target transaction, guarded by an advisory lock, so a retry
(after a worker died, the target restarted or the driver was killed) either finds the
checkpoint and skips, or finds nothing and redoes the whole partition: exactly once.

Bad rows are isolated by splitting the failing batch in halves under savepoints (a few COPYs
per bad row, never row-by-row for the whole table) and quarantined with their error.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import logging
import queue
import re
import sys
import threading
import time
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import psycopg
import pyarrow as pa

from workbench import telemetry
from workbench.connectors import connect
from workbench.connectors.base import REJECT_COLUMN, Connector, Partition, TextField
from workbench.connectors.pgcopy import NO_STATEMENT_TIMEOUT, copy_batch, copy_statement
from workbench.connectors.sealed import SealedUrl, reveal
from workbench.engine import bookkeeping
from workbench.engine.plan import NULLED_PREFIX
from workbench.errors import (
    ErrorBudgetExceededError,
    JobCancelledError,
    SourceQueryError,
    TransientError,
    WorkbenchError,
)
from workbench.schema.model import Table
from workbench.transforms import masking
from workbench.transforms.rules import ColumnTransform, apply_transforms
from workbench.urls import mask_text, mask_url

log = logging.getLogger(__name__)
T = TypeVar("T")

# A worker host that vanishes mid-COPY leaves its backend holding the partition's lock, in an
# open transaction, until TCP gives up (hours). Keepalives on both ends notice a dead peer in
# about half a minute: the server then ends that backend (its rows roll back, the lock goes)
# and the partition is re-run elsewhere; a re-run that still finds the lock held ends that
# backend after STALE_AFTER (engine.bookkeeping.lock_partition).
KEEPALIVES: dict[str, Any] = {
    "keepalives": 1, "keepalives_idle": 15, "keepalives_interval": 5, "keepalives_count": 3,
    # data sent and not acknowledged for a minute: the server is gone (keepalives stay
    # silent while a retransmission is pending)
    "tcp_user_timeout": 60_000,
}  # fmt: skip
# The server's end of the same: a reply the lost host never acknowledges holds the backend in
# retransmission (tcp_retries2: about 15 minutes) where keepalives never fire; 30 s ends it.
SERVER_KEEPALIVES = (
    "SET tcp_keepalives_idle = 15; SET tcp_keepalives_interval = 5; "
    "SET tcp_keepalives_count = 3; SET tcp_user_timeout = 30000"
)


def _shown(url: str | SealedUrl) -> str:
    return url.masked if isinstance(url, SealedUrl) else mask_url(url)


# Rows passed through as COPY text go in chunks of about this size (see _pass_copy_text).
COPY_TEXT_CHUNK = 1 << 18

# Errors that mean "these rows do not fit", as opposed to "the server is gone".
ROW_ERRORS = (psycopg.errors.DataError, psycopg.errors.IntegrityError, pa.ArrowException)


@dataclass(frozen=True)
class PartitionTask:
    """Everything a worker needs to copy one partition; picklable, secrets masked in repr."""

    job_key: str
    source_url: str | SealedUrl  # sealed when it holds a password (see connectors.sealed)
    target_url: str | SealedUrl
    table: Table
    partition: Partition
    target_schema: str
    target_table: str
    transforms: tuple[ColumnTransform, ...]
    read_columns: tuple[str, ...]
    expressions: dict[str, str] = field(default_factory=dict)
    # every column, when the rows may pass as COPY text the source renders itself
    # (TablePlan.copy_text_columns; used where the source's connector can_copy_text)
    text_columns: tuple[TextField, ...] = ()
    key_columns: tuple[str, ...] = ()
    batch_rows: int = 50_000
    max_bad_rows: int | None = None  # this partition may quarantine at most this many rows
    salt: str = ""
    max_rows_per_second: float | None = None
    connect_timeout: float = 10.0
    source_options: dict[str, Any] = field(default_factory=dict)
    retries: int = 6  # transient failures (target restarting, network) retried with backoff
    retry_window: float = 20.0  # ... for at most this long: a server that is gone fails the job
    read_ahead: int = 2  # batches read ahead of the COPY (CopyOptions.read_ahead)
    fake_pools: dict[Any, Any] = field(default_factory=dict)  # built by the driver (masking)
    log_level: int = logging.WARNING  # the driver's: -v/-vv show the workers' partitions too
    trace_context: dict[str, str] = field(default_factory=dict)  # the job's trace (telemetry)

    def __repr__(self) -> str:
        return (
            f"PartitionTask({self.partition.label}, {_shown(self.source_url)} -> "
            f"{_shown(self.target_url)} {self.target_schema}.{self.target_table})"
        )


@dataclass
class PartitionResult:
    table: str
    index: int
    rows_read: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0
    bytes: int = 0
    seconds: float = 0.0
    read_seconds: float = 0.0  # waiting for the source's batches
    write_seconds: float = 0.0  # transforming and writing them (COPY into the target)
    skipped: bool = False
    attempts: int = 1
    errors: list[str] = field(default_factory=list)
    nulled: dict[str, int] = field(default_factory=dict)  # target column -> values made NULL
    as_text: bool = False  # the rows passed through as the source's COPY text (no Arrow)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, str):
        return value.replace("\x00", "\\u0000")  # jsonb cannot hold NUL; keep it visible
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _row(batch: pa.RecordBatch, i: int) -> dict[str, Any]:
    try:
        values = batch.slice(i, 1).to_pylist()[0]
    except (pa.ArrowException, ValueError, OverflowError):  # e.g. invalid UTF-8 in a string
        values = {}
        for name, col in zip(batch.schema.names, batch.columns, strict=True):
            try:
                values[name] = col[i].as_py()
            except (pa.ArrowException, ValueError, OverflowError):
                buf = (
                    col.slice(i, 1).cast(pa.binary())[0].as_py()
                    if pa.types.is_string(col.type)
                    else None
                )
                values[name] = None if buf is None else base64.b64encode(buf).decode()
    return {k: _jsonable(v) for k, v in values.items()}


class _Writer:
    """Writes batches inside the partition's transaction, isolating rows that do not fit."""

    def __init__(self, conn: psycopg.Connection, task: PartitionTask) -> None:
        self.conn = conn
        self.cur = conn.cursor()
        self.task = task
        self.written = 0
        self.bytes = 0
        self.bad: list[tuple[dict[str, Any] | None, dict[str, Any], str]] = []

    def reject(
        self, source: pa.RecordBatch, rows: np.ndarray, reasons: dict[int, str] | str
    ) -> None:
        masked = self._masked_values(source, rows)
        # a masked key column is PII: its clear value never reaches the quarantine (the
        # validation then compares those partitions by count)
        keep_key = not (set(self.task.key_columns) & set(masked))
        for n, i in enumerate(rows):
            i = int(i)
            reason = reasons if isinstance(reasons, str) else reasons[i]
            key = (
                {
                    k: _jsonable(source.column(source.schema.get_field_index(k))[i].as_py())
                    for k in self.task.key_columns
                    if source.schema.get_field_index(k) >= 0
                }
                if self.task.key_columns and keep_key
                else None
            )
            row = _row(source, i)
            for column, values in masked.items():
                if column in row:
                    row[column] = _jsonable(values[n])
            self.bad.append((key, row, hide_values(mask_text(reason))[:2000]))
        # this partition alone is past the job's budget: stop reading it now (uncommitted)
        limit = self.task.max_bad_rows
        if limit is not None and len(self.bad) > limit:
            raise ErrorBudgetExceededError(
                f"Table {self.task.table.qualified_name}: more than {limit} rows do not fit the "
                f"target (last error: {self.bad[-1][2]}); the job's error budget is exhausted. "
                "See _workbench.quarantine in the target, fix the mapping or raise the budget.",
                table=self.task.table.qualified_name,
            )

    def _masked_values(self, source: pa.RecordBatch, rows: np.ndarray) -> dict[str, list[Any]]:
        """Source column -> its masked values for ``rows``: a quarantined row is masked as the
        copied rows are (the quarantine lives in the target, beside them)."""
        out: dict[str, list[Any]] = {}
        picked = pa.array(rows.astype("int64"))
        for t in self.task.transforms:
            column = t.target if t.expression else t.source
            if not t.mask or column is None or column not in source.schema.names:
                continue
            values = source.column(source.schema.get_field_index(column)).take(picked)
            try:
                out[column] = masking.apply_mask(values, t.mask, salt=self.task.salt).to_pylist()
            except (pa.ArrowException, ValueError, TypeError):  # cannot mask: keep nothing
                out[column] = [None] * len(rows)
        return out

    def write(self, out: pa.RecordBatch, source: pa.RecordBatch, rows: np.ndarray) -> None:
        """COPY the rows ``rows`` (indexes into ``out`` and ``source``); split halves on error."""
        if len(rows) == 0:
            return
        whole = len(rows) == out.num_rows
        part = out if whole else out.take(pa.array(rows))
        try:
            with self.conn.transaction():  # a savepoint inside the partition transaction
                self.bytes += copy_batch(
                    self.cur, self.task.target_schema, self.task.target_table, part
                )
            self.written += len(rows)
        except ROW_ERRORS as exc:
            if len(rows) == 1:
                self.reject(source, rows, _describe(exc))
                return
            mid = len(rows) // 2
            self.write(out, source, rows[:mid])
            self.write(out, source, rows[mid:])


def count_nulled(batch: pa.RecordBatch, counts: dict[str, int]) -> pa.RecordBatch:
    """Add up and drop the plan's counter columns (values the read expressions made NULL)."""
    counters = [n for n in batch.schema.names if n.startswith(NULLED_PREFIX)]
    if not counters:
        return batch
    for name in counters:
        hits = batch.num_rows - batch.column(name).null_count
        if hits:
            column = name[len(NULLED_PREFIX) :]
            counts[column] = counts.get(column, 0) + hits
    return batch.drop_columns(counters)


def reader_rejects(batch: pa.RecordBatch) -> dict[int, str]:
    """Rows the source reader could not deliver exactly, with its reason (see REJECT_COLUMN)."""
    index = batch.schema.get_field_index(REJECT_COLUMN)
    if index < 0:
        return {}
    reasons = batch.column(index).to_pylist()
    return {i: r for i, r in enumerate(reasons) if r is not None}


# words after which a quoted name is a name (relation "t", column "c"), not a value
_NAMES = ("relation", "column", "constraint", "table", "type", "index", "schema", "encoding",
          "domain", "function", "sequence", "database", "role", "of relation")  # fmt: skip
_QUOTED = re.compile(r"""(?P<before>\b[\w ]{0,20}?)?(?P<q>["'])(?P<text>(?:(?!(?P=q)).)*)(?P=q)""")


def hide_values(text: str) -> str:
    """An error text without the values it quotes (they may be personal data): names of
    relations, columns and types stay, quoted values become "…"."""

    def swap(m: re.Match[str]) -> str:
        before = (m["before"] or "").strip().lower()
        if before.endswith(_NAMES):
            return m[0]
        return f"{m['before'] or ''}{m['q']}…{m['q']}"

    return _QUOTED.sub(swap, text)


def _describe(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if diag is not None and getattr(diag, "context", None):
        text += f" ({diag.context.splitlines()[0]})"
    return text


def _where(task: PartitionTask) -> str:
    """How the logs name a partition: job key (as in the target's bookkeeping), table,
    partition (and its range)."""
    return f"{task.job_key} {task.partition.label}"


def _copy_once(task: PartitionTask, check_cancel: _CancelCheck) -> PartitionResult:
    started = time.monotonic()
    result = PartitionResult(task.table.qualified_name, task.partition.index)
    log.debug("%s: start", _where(task))
    source = connect(
        reveal(task.source_url), connect_timeout=task.connect_timeout, options=task.source_options
    )
    try:
        with psycopg.connect(
            reveal(task.target_url), connect_timeout=int(task.connect_timeout), **KEEPALIVES
        ) as conn:
            conn.execute(SERVER_KEEPALIVES)
            conn.execute(NO_STATEMENT_TIMEOUT)
            conn.execute("SET synchronous_commit TO off")  # the checkpoint commits with the rows
            conn.execute("SET TIME ZONE 'UTC'")  # text timestamps without offset are UTC
            conn.execute("SET datestyle TO 'ISO, YMD'")
            # sources' COPY text arrives as UTF-8 bytes, sent as they are: a database in
            # another encoding must convert them (LATIN1 stored them byte for byte: 'café'
            # landed as 'cafÃ©'), and refuses a character it cannot hold
            conn.execute("SET client_encoding TO 'UTF8'")
            _defer_foreign_keys(conn)
            with conn.transaction():
                cur = conn.cursor()
                bookkeeping.lock_partition(
                    cur, task.job_key, task.table.qualified_name, task.partition.index
                )
                done = bookkeeping.find_checkpoint(
                    cur, task.job_key, task.table.qualified_name, task.partition.index
                )
                if done is not None:
                    result.skipped = True
                    result.rows_read = done["rows_read"]
                    result.rows_written = done["rows_written"]
                    result.rows_quarantined = done["rows_quarantined"]
                    result.bytes = done["bytes"]
                    log.debug("%s: already committed by an earlier attempt, skipped", _where(task))
                    return result
                writer = _Writer(conn, task)
                passed = (
                    bool(task.text_columns)
                    and source.can_copy_text(task.table, task.text_columns)
                    and _pass_copy_text(task, source, writer, result, started, check_cancel)
                )
                if not passed:
                    _copy_batches(task, source, writer, result, started, check_cancel)
                checkpoint = telemetry.tracer().start_span("checkpoint")  # ends with the commit
                bookkeeping.quarantine_rows(
                    cur, task.job_key, task.table.qualified_name, task.partition.index, writer.bad
                )
                if writer.bad:
                    log.debug("%s: %d row(s) quarantined", _where(task), len(writer.bad))
                result.rows_written = writer.written
                result.rows_quarantined = len(writer.bad)
                result.bytes = writer.bytes
                bookkeeping.record_checkpoint(
                    cur,
                    task.job_key,
                    task.table.qualified_name,
                    task.partition.index,
                    rows_read=result.rows_read,
                    rows_written=result.rows_written,
                    rows_quarantined=result.rows_quarantined,
                    bytes_sent=result.bytes,
                )
            checkpoint.end()  # the partition's rows and checkpoint committed together
    finally:
        source.close()
    result.seconds = time.monotonic() - started
    log.debug("%s: committed %d row(s) in %.2f s", _where(task), result.rows_written,
              result.seconds)  # fmt: skip
    return result


def _copy_batches(
    task: PartitionTask,
    source: Connector,
    writer: _Writer,
    result: PartitionResult,
    started: float,
    check_cancel: _CancelCheck,
) -> None:
    """The general path: Arrow batches read, transformed, rendered and COPYed; rows that do
    not fit are isolated and quarantined."""
    batches = source.read_partition(
        task.table, task.partition, task.read_columns, task.batch_rows, task.expressions
    )
    stream = prefetch(batches, task.read_ahead)
    try:
        _copy_stream(task, stream, writer, result, started, check_cancel)
    finally:
        stream.close()  # at once, whatever happened (see _pass_copy_text)


def _copy_stream(
    task: PartitionTask,
    stream: Iterator[pa.RecordBatch],
    writer: _Writer,
    result: PartitionResult,
    started: float,
    check_cancel: _CancelCheck,
) -> None:
    tracer = telemetry.tracer()
    while True:
        # time waiting on the source vs time writing: the job's performance report
        # tells from these which side bound each table
        waited = time.monotonic()
        with tracer.start_as_current_span("read") as span:
            batch = next(stream, None)
            span.set_attribute("workbench.rows", batch.num_rows if batch else 0)
        result.read_seconds += time.monotonic() - waited
        if batch is None:
            break
        result.rows_read += batch.num_rows
        batch = count_nulled(batch, result.nulled)
        unreadable = reader_rejects(batch)
        if unreadable:
            batch = batch.drop_columns([REJECT_COLUMN])
        began = time.monotonic()
        with tracer.start_as_current_span("transform") as span:
            out, rejected = apply_transforms(batch, list(task.transforms), task.salt)
            rejected = {**rejected, **unreadable}
            span.set_attribute("workbench.rows_rejected", len(rejected))
        all_rows = np.arange(batch.num_rows)
        with tracer.start_as_current_span("write") as span:
            if rejected:
                bad = np.array(sorted(rejected))
                writer.reject(batch, bad, rejected)
                all_rows = np.setdiff1d(all_rows, bad)
            writer.write(out, batch, all_rows)
            span.set_attribute("workbench.rows", len(all_rows))
        result.write_seconds += time.monotonic() - began
        _throttle(task, result.rows_read, started, check_cancel)
        check_cancel()


def _pass_copy_text(
    task: PartitionTask,
    source: Connector,
    writer: _Writer,
    result: PartitionResult,
    started: float,
    check_cancel: _CancelCheck,
) -> bool:
    """Rows of the target's own types passed through as the source's COPY text, unparsed, in
    one COPY (the pipe's own work: no Arrow, no rendering). False, with nothing left
    behind, when a row does not fit the target: the general path then isolates it."""
    statement = copy_statement(
        task.target_schema, task.target_table, [f.target for f in task.text_columns], "text"
    )
    chunks = prefetch(
        source.read_copy_text(task.table, task.partition, task.text_columns, COPY_TEXT_CHUNK),
        4 * task.read_ahead,  # smaller than batches: as many bytes in flight
    )
    tracer = telemetry.tracer()
    rows = sent = 0
    nulled: dict[str, int] = {}
    try:
        with writer.conn.transaction(), writer.cur.copy(statement) as copy:
            while True:
                waited = time.monotonic()
                with tracer.start_as_current_span("read") as span:
                    chunk = next(chunks, None)
                    span.set_attribute("workbench.rows", chunk.rows if chunk else 0)
                result.read_seconds += time.monotonic() - waited
                if chunk is None:
                    break
                began = time.monotonic()
                with tracer.start_as_current_span("write") as span:
                    copy.write(chunk.data)
                    span.set_attribute("workbench.rows", chunk.rows)
                result.write_seconds += time.monotonic() - began
                rows += chunk.rows
                sent += len(chunk.data)
                for column, count in chunk.nulled.items():
                    nulled[column] = nulled.get(column, 0) + count
                _throttle(task, rows, started, check_cancel)
                check_cancel()
    except ROW_ERRORS as exc:
        log.debug("%s: a row does not fit as text (%s); isolating it", _where(task), exc)
        result.read_seconds = result.write_seconds = 0.0
        return False
    except SourceQueryError as exc:  # the source cannot render these rows as text
        log.info("%s: read the general way instead of as COPY text: %s", _where(task), exc)
        result.read_seconds = result.write_seconds = 0.0
        return False
    finally:
        # at once, whatever happened: a reader left open holds a source backend blocked on
        # its write, and such a backend stalls every DROP DATABASE on that server
        chunks.close()
    result.rows_read += rows
    for column, count in nulled.items():
        if count:
            result.nulled[column] = result.nulled.get(column, 0) + count
    result.as_text = True
    writer.written += rows
    writer.bytes += sent
    return True


def prefetch(batches: Iterator[T], depth: int = 2) -> Generator[T, None, None]:
    """Read the next batches in a thread while the caller writes this one.

    The source's driver (Rust/C, GIL released) and the target's COPY then work at the same
    time, so one task keeps both databases busy. Errors surface in the caller, in order.
    """
    done = object()
    q: queue.Queue[object] = queue.Queue(maxsize=depth)  # batches, an error, `done`
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        q.put(batch, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            q.put(exc)

    thread = threading.Thread(target=produce, name="wb-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]  # a T: anything else returned or raised above
    finally:
        stop.set()
        close = getattr(batches, "close", None)
        thread.join(timeout=5)
        if close is not None and not thread.is_alive():
            close()


def _defer_foreign_keys(conn: psycopg.Connection) -> None:
    """Partitions of different tables land in any order: foreign keys that already exist in
    the target (loading into existing tables) must not reject a child row whose parent is
    still to come. Needs a superuser; without one, such rows are quarantined, not lost."""
    try:
        with conn.transaction():
            conn.execute("SET session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        log.info("cannot defer foreign keys (not a superuser); load order matters")


# Cancelling a job stops its tasks that already run, not only those still queued: on a shared
# cluster a cancelled (or failed) job's partitions must not keep a worker busy, retrying against
# a target that is gone. The driver sets the job's Dask Event (or, for threads, adds its key
# here); a task looks before each attempt and about once a second between batches, and a
# cancelled task raises before its commit, so the partition is simply not done.
_CANCELLED_HERE: set[str] = set()  # job keys cancelled in this process (the thread runner)
CANCEL_CHECK_SECONDS = 1.0


def cancel_event_name(job_key: str) -> str:
    return f"workbench-cancel-{job_key}"


def cancel_here(job_key: str, cancelled: bool = True) -> None:
    if cancelled:
        _CANCELLED_HERE.add(job_key)
    else:
        _CANCELLED_HERE.discard(job_key)


def job_cancelled(job_key: str) -> bool:
    if job_key in _CANCELLED_HERE:
        return True
    if "distributed" not in sys.modules:  # a Dask worker has it; a thread-run job need not
        return False  # pay its import (0.13 s) inside its first partition
    try:
        from distributed import Event, get_worker

        get_worker()  # only a task on a Dask worker has the scheduler's events to ask
    except (ImportError, ValueError):
        return False
    return bool(Event(cancel_event_name(job_key)).is_set())


class _CancelCheck:
    """Asks :func:`job_cancelled` at most once per CANCEL_CHECK_SECONDS."""

    def __init__(self, task: PartitionTask) -> None:
        self.task, self.last = task, time.monotonic()

    def __call__(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < CANCEL_CHECK_SECONDS:
            return
        self.last = now
        if job_cancelled(self.task.job_key):
            raise JobCancelledError(
                f"{_where(self.task)}: the job was cancelled; this partition was not committed"
            )


def _throttle(task: PartitionTask, rows: int, started: float, check_cancel: _CancelCheck) -> None:
    """Sleep until the partition is back under its rate, listening for a cancel meanwhile."""
    if not task.max_rows_per_second:
        return
    until = started + rows / task.max_rows_per_second
    while (ahead := until - time.monotonic()) > 0:
        time.sleep(min(ahead, CANCEL_CHECK_SECONDS))
        check_cancel()


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TransientError | psycopg.OperationalError) and not isinstance(
        exc, psycopg.errors.QueryCanceled
    )


def copy_partition(task: PartitionTask) -> PartitionResult:
    """Copy a partition exactly once, retrying transient failures with exponential backoff."""
    if task.fake_pools:
        masking.seed_pools(task.fake_pools)
    package_log = logging.getLogger("workbench")
    if package_log.getEffectiveLevel() != task.log_level:  # on a worker: the driver's level
        package_log.setLevel(task.log_level)  # (forwarded to the driver)
    attributes: dict[str, str | int | bool] = {
        "workbench.job.key": task.job_key,
        "workbench.table": task.table.qualified_name,
        "workbench.partition": task.partition.index,
    }
    with (
        telemetry.continued(task.trace_context),
        telemetry.tracer().start_as_current_span(
            "partition", attributes=attributes, record_exception=False
        ) as span,
    ):
        try:
            result = _copy_with_retries(task)
        except BaseException as exc:
            telemetry.fail(span, exc)
            raise
        finally:
            if task.trace_context:  # on a worker, which may be stopped before the next export
                telemetry.flush()
        span.set_attribute("workbench.rows", result.rows_written)
        span.set_attribute("workbench.attempts", result.attempts)
        span.set_attribute("workbench.skipped", result.skipped)
        return result


def _copy_with_retries(task: PartitionTask) -> PartitionResult:
    errors: list[str] = []
    first_failure: float | None = None
    check_cancel = _CancelCheck(task)
    for attempt in range(1, task.retries + 2):
        check_cancel(force=True)  # a task that starts (or retries) after its job was cancelled
        try:
            result = _copy_once(task, check_cancel)
            result.attempts = attempt
            result.errors = errors
            return result
        except Exception as exc:
            first_failure = first_failure or time.monotonic()
            waited = time.monotonic() - first_failure
            if not is_transient(exc):
                raise
            if attempt > task.retries or waited >= task.retry_window:
                if attempt > 1 and isinstance(exc, WorkbenchError):  # say it was retried
                    raise type(exc)(
                        f"{exc.message} (tried {attempt} times over {waited:.0f} s)", **exc.fields
                    ) from exc
                raise
            check_cancel(force=True)
            # backoff, but never past the window: the last attempt comes at its end (a 16 s
            # sleep at 15 s made a server that is gone fail the job at 31 s, not 20)
            delay = min(2 ** (attempt - 1), 30, task.retry_window - waited)
            message = mask_text(f"{type(exc).__name__}: {str(exc).strip()[:300]}")
            errors.append(message)
            log.info(  # the driver logs the retries in the job's log; workers stay quiet
                "%s: attempt %d failed (%s); retrying in %.3gs",
                _where(task),
                attempt,
                message,
                delay,
            )
            time.sleep(delay)
    raise AssertionError("unreachable")
