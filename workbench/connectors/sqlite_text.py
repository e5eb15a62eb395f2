"""SQLite rows rendered as PostgreSQL COPY text by SQLite itself, read through connectorx.

The general path has connectorx type every value into Arrow and the workbench render each
batch back into text; here SQLite writes one COPY line per row (``concat_ws``), connectorx
returns the lines as one contiguous buffer, and that buffer goes to COPY as it is. TPC-H
lineitem, per million rows: the typed read took 3.0 CPU-s and its rendering about 0.9 more;
the lines take 3.2 (SQLite's text of the values, the escape checks, the concatenation).

A field goes as text only where SQLite's text of it is what the general path would load:
- columns the general path already reads as ``CAST(col AS TEXT)`` (decimals, dates, times,
  untyped): the same expression;
- INTEGER and TEXT columns whose value has the storage class the general path expects
  (``typeof``): an integer's digits, a text as it is; a value of another class (text in an
  INTEGER column, which PostgreSQL might read where the general path refuses it) makes the
  row's line NULL, and the reader hands the partition to the general path;
- BLOBs as ``\\x`` and their hex digits.
REAL columns stay on the general path (SQLite's text of a double has 15 significant digits;
the general path loads the exact double), and so do booleans and columns the type map reads
through an expression.

Text values are escaped (backslash, tab, newline, carriage return) only where they hold one of
these: four ``instr`` tests cost less than four ``replace`` calls on every value. NUL bytes stay
in the text (PostgreSQL refuses them and the general path quarantines the row).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import pyarrow as pa

from workbench.connectors.base import TextField
from workbench.connectors.sqltext import quote_ident
from workbench.schema.model import Column

_NULL = "'\\N'"  # SQLite literals keep backslashes as they are: \N
_SPECIALS = ("'\\'", "char(9)", "char(10)", "char(13)")
_ESCAPES = (("'\\'", "'\\\\'"), ("char(9)", "'\\t'"), ("char(10)", "'\\n'"), ("char(13)", "'\\r'"))


class ColumnRead(NamedTuple):
    """How the general path reads a column: its Arrow type, and whether as CAST(... AS TEXT)."""

    column: Column
    arrow: pa.DataType
    as_text: bool


def _escaped(value: str) -> str:
    """``value`` with COPY's four specials escaped, only when it holds one."""
    found = " OR ".join(f"instr({value}, {s})" for s in _SPECIALS)
    escaped = value
    for special, escape in _ESCAPES:  # backslash first: its escapes are not escaped again
        escaped = f"replace({escaped}, {special}, {escape})"
    return f"CASE WHEN {found} THEN {escaped} ELSE {value} END"


def _field(read: ColumnRead, field: TextField) -> tuple[str, str | None] | None:
    """(the field's text, the guard its row needs) or None when it cannot go as text."""
    if field.expression is not None or field.nulled_when is not None:
        return None
    column = read.column
    name = quote_ident(column.name, "sqlite")
    if column.native.name in ("boolean", "bool"):
        return None
    if read.as_text:
        text = _escaped(f"CAST({name} AS TEXT)")
        return (f"ifnull({text}, {_NULL})" if column.nullable else text), None
    classes = {pa.int64(): "integer", pa.string(): "text", pa.binary(): "blob"}
    storage = classes.get(read.arrow)
    if storage is None:  # REAL
        return None
    text = {
        "integer": name,
        "text": _escaped(name),
        # COPY text \\x: bytea's hex input \x (hex(NULL) is '', not NULL)
        "blob": f"CASE WHEN {name} IS NOT NULL THEN '\\\\x' || hex({name}) END",
    }[storage]
    if column.nullable:
        return f"ifnull({text}, {_NULL})", f"typeof({name}) IN ('{storage}', 'null')"
    return text, f"typeof({name}) = '{storage}'"


def line_select(reads: Sequence[ColumnRead], fields: Sequence[TextField]) -> str | None:
    """The expression of one COPY line per row (newline included), NULL for a row with a
    value of an unexpected storage class; None when a field cannot go as text."""
    texts, guards = [], []
    for read, field in zip(reads, fields, strict=True):
        rendered = _field(read, field)
        if rendered is None:
            return None
        texts.append(rendered[0])
        if rendered[1] is not None:
            guards.append(rendered[1])
    # concat_ws, not ||: one allocation per row (|| copies the growing line at each field)
    line = f"concat_ws(char(9), {', '.join(texts)}) || char(10)"
    return f"CASE WHEN {' AND '.join(guards)} THEN {line} END" if guards else line
