"""SQLite partitions read straight into Arrow by connectorx (Rust), when it can read them exactly.

The standard library's cursor costs a Python object per value: a 240,000-row TPC-H lineitem
partition takes 2.1 s to fetch and convert, connectorx 0.84 s, most of it SQLite's own work.
connectorx types a column by its declared type (an expression by its first value) and stops at
the first value of another storage class; then, or when it would type a column otherwise than
the connector's value contract says, the partition is read by the standard library instead,
which keeps every row and quarantines the ones that do not fit. Nothing is yielded from a
partial read: connectorx returns the whole partition or nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from workbench.errors import SourceQueryError

log = logging.getLogger(__name__)

# a path connectorx's URL parser takes as it is (no %, ?, # or spaces to escape)
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9_./+-]+")


def bound(value: Any) -> Any:
    """A bound parameter as SQLite compares it: dates and times as ISO text with a space
    (SQLite's own datetime() format), rendered here. Python's sqlite3 adapters are global and
    any library may replace them: nbformat, imported in Jupyter, makes datetimes ISO with a
    'T', which sorts after the space, and a catch-up's bound then skipped that day's later
    rows."""
    if isinstance(value, dt.datetime):
        return value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def literal(value: Any) -> str | None:
    """A SQLite literal for a partition bound, or None for a value without a safe one."""
    value = bound(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'" if "\x00" not in value else None
    if isinstance(value, bytes | bytearray | memoryview):
        return f"X'{bytes(value).hex()}'"
    return None


def inline(sql: str, params: Sequence[Any]) -> str | None:
    """``sql`` with each ``?`` replaced by its parameter as a literal (no ``?`` elsewhere)."""
    pieces = sql.split("?")
    if len(pieces) != len(params) + 1:
        return None  # a ? inside a name or literal: not ours to rewrite
    out = [pieces[0]]
    for value, piece in zip(params, pieces[1:], strict=True):
        text = literal(value)
        if text is None:
            return None
        out += [text, piece]
    return "".join(out)


def _plain(t: pa.DataType) -> pa.DataType:
    if pa.types.is_large_string(t):
        return pa.string()
    if pa.types.is_large_binary(t):
        return pa.binary()
    return t


def read_exactly(path: str, sql: str, schema: pa.Schema) -> pa.Table | None:
    """The whole result of ``sql`` as ``schema``, or None where connectorx cannot read it
    exactly as the standard library would (the caller reads it that way)."""
    if not _PLAIN_PATH.fullmatch(path):
        return None
    try:
        import connectorx  # noqa: F401  # installed: else the standard reader
    except ImportError:
        return None
    try:
        table = query(path, sql)
    except SourceQueryError as exc:  # a value of another storage class
        log.debug("connectorx could not read %s exactly (%s): standard reader", path, exc)
        return None
    if table.num_columns != len(schema):
        return None
    columns = []
    for field, column in zip(schema, table.columns, strict=True):
        if _plain(column.type) != field.type and not (
            pa.types.is_null(column.type) and column.null_count == len(column)
        ):
            return None  # typed otherwise than the value contract (a BOOLEAN as bool)
        columns.append(column.cast(field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def query(path: str, sql: str) -> pa.Table:
    """``sql``'s whole result on the SQLite file at ``path``, read by connectorx (installed:
    see :func:`can_read`); SourceQueryError where connectorx refuses it (a value of another
    storage class than it typed the column by, an error of SQLite's)."""
    result: pa.Table = _read(path, sql, return_type="arrow")
    return result


def stream(path: str, sql: str, batch_rows: int) -> pa.RecordBatchReader:
    """:func:`query`'s result as a stream of ``batch_rows`` batches (connectorx's refusals
    may then come while it is read)."""
    reader: pa.RecordBatchReader = _read(
        path, sql, return_type="arrow_stream", batch_size=batch_rows
    )
    return reader


def _read(path: str, sql: str, **how: Any) -> Any:
    os.environ.setdefault("RUST_LOG", "off")
    import connectorx

    try:
        return connectorx.read_sql(f"sqlite://{Path(path).resolve()}", sql, **how)
    except BaseException as exc:  # connectorx panics too (PanicException is a BaseException)
        if type(exc).__name__ != "PanicException" and not isinstance(exc, RuntimeError):
            raise
        raise SourceQueryError(f"connectorx could not read SQLite's result: {exc}") from exc


def can_read(path: str) -> bool:
    """Whether connectorx can open the file at ``path`` (installed, a plain path, a file)."""
    if path == ":memory:" or not _PLAIN_PATH.fullmatch(str(Path(path).resolve())):
        return False
    try:
        import connectorx  # noqa: F401
    except ImportError:
        return False
    return Path(path).is_file()


def read_lines(path: str, sql: str) -> pa.Table:
    """``sql``'s result, whose last column holds COPY lines (``wb_line``), read by
    connectorx; SourceQueryError where it cannot be read or a line is NULL."""
    table = query(path, sql)
    lines = table.column(table.num_columns - 1)
    if lines.null_count:
        raise SourceQueryError("a row holds a value of another storage class than its column's")
    if not (pa.types.is_large_string(lines.type) or pa.types.is_string(lines.type)):
        raise SourceQueryError(f"SQLite's lines came back as {lines.type}, not text")
    return table
