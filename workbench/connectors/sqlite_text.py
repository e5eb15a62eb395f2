"""SQLite rows rendered as PostgreSQL COPY text by SQLite itself, read through connectorx.

The general path has connectorx type every value into Arrow and the workbench render each
batch back into text; here SQLite writes one COPY line per row (``concat_ws``), connectorx
returns the lines as one contiguous buffer, and that buffer goes to COPY as it is. TPC-H
lineitem, 237,000 rows: the typed read took 0.72 CPU-s plus its rendering; the lines 0.59
and their escape check 0.06.

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

Lines are rendered without escapes and checked in numpy (:func:`needs_escapes`); the few
that need escapes are read again with them (backslash, tab, newline and carriage return
escaped where a value holds one: ``instr`` tests, as checking every value in SQL cost 40% of
the line query) and put back in place. NUL bytes stay in the text (PostgreSQL refuses them
and the general path quarantines the row).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import pairwise
from typing import NamedTuple

import numpy as np
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


def _field(read: ColumnRead, field: TextField, escape: bool) -> tuple[str, str | None] | None:
    """(the field's text, the guard its row needs) or None when it cannot go as text."""
    if field.expression is not None or field.nulled_when is not None:
        return None
    column = read.column
    name = quote_ident(column.name, "sqlite")
    if column.native.name in ("boolean", "bool"):
        return None
    if read.as_text:
        cast = f"CAST({name} AS TEXT)"
        # a number's text holds nothing to escape, and SQLite formats a REAL anew at each
        # mention: the escape checks would format TPC-H's decimals five times over
        text = (
            f"CASE typeof({name}) WHEN 'text' THEN {_escaped(name)}"
            f" WHEN 'blob' THEN {_escaped(cast)} ELSE {cast} END"
            if escape
            else cast
        )
        return (f"ifnull({text}, {_NULL})" if column.nullable else text), None
    classes = {pa.int64(): "integer", pa.string(): "text", pa.binary(): "blob"}
    storage = classes.get(read.arrow)
    if storage is None:  # REAL
        return None
    text = {
        "integer": name,
        "text": _escaped(name) if escape else name,
        # COPY text \\x: bytea's hex input \x (hex(NULL) is '', not NULL)
        "blob": f"CASE WHEN {name} IS NOT NULL THEN '\\\\x' || hex({name}) END",
    }[storage]
    if column.nullable:
        return f"ifnull({text}, {_NULL})", f"typeof({name}) IN ('{storage}', 'null')"
    return text, f"typeof({name}) = '{storage}'"


def line_select(
    reads: Sequence[ColumnRead], fields: Sequence[TextField], escape: bool = True
) -> str | None:
    """The expression of one COPY line per row (newline included), NULL for a row with a
    value of an unexpected storage class; None when a field cannot go as text. Without
    ``escape``, values go as they are: only for rows :func:`needs_escapes` then checks."""
    texts, guards = [], []
    for read, field in zip(reads, fields, strict=True):
        rendered = _field(read, field, escape)
        if rendered is None:
            return None
        texts.append(rendered[0])
        if rendered[1] is not None:
            guards.append(rendered[1])
    # concat_ws, not ||: one allocation per row (|| copies the growing line at each field)
    line = f"concat_ws(char(9), {', '.join(texts)}) || char(10)"
    return f"CASE WHEN {' AND '.join(guards)} THEN {line} END" if guards else line


def line_bounds(lines: pa.Array) -> tuple[np.ndarray, memoryview]:
    """The byte offsets of a string array's lines (one more than lines) and its data."""
    width = 8 if pa.types.is_large_string(lines.type) else 4
    _, offsets, data = lines.buffers()
    bounds = np.frombuffer(offsets, f"<i{width}", len(lines) + 1, lines.offset * width)
    return bounds.astype(np.int64), memoryview(data)


def needs_escapes(lines: pa.Array, fields: int) -> np.ndarray:
    """Per line rendered without escapes, whether a value in it holds a backslash, carriage
    return, tab or newline: the first two anywhere, the others where the line holds more
    tabs and newlines than its ``fields`` separators (``fields - 1`` tabs, one newline).
    numpy over the buffer: a few passes over the bytes, where SQLite's four ``instr`` per
    value cost 40% of the line query (TPC-H lineitem)."""
    if not len(lines):
        return np.zeros(0, bool)
    bounds, data = line_bounds(lines)
    text = np.frombuffer(data, np.uint8, int(bounds[-1] - bounds[0]), int(bounds[0]))
    # every line holds at least its own separators: when the whole buffer holds no more and
    # no backslash or carriage return, no line needs escapes (counting per line casts every
    # byte to int64: TPC-H lineitem, 240,000 lines, 0.62 s; this check 0.015 s)
    separators_total = np.count_nonzero(text == 9) + np.count_nonzero(text == 10)
    if separators_total == fields * len(lines) and not (
        np.count_nonzero(text == 92) or np.count_nonzero(text == 13)
    ):
        return np.zeros(len(lines), bool)
    starts = bounds[:-1] - bounds[0]
    separators = np.add.reduceat((text == 9) | (text == 10), starts, dtype=np.int64)
    flagged: np.ndarray = np.asarray(separators != fields)
    odd = np.flatnonzero((text == 92) | (text == 13))
    if len(odd):
        flagged[np.searchsorted(starts, odd, side="right") - 1] = True
    return flagged


def line_pieces(
    lines: pa.Array,
    chunk_bytes: int,
    flagged: np.ndarray | None = None,
    replacements: Sequence[str] = (),
) -> Iterator[tuple[bytes | memoryview, int]]:
    """The lines as pieces of about ``chunk_bytes`` contiguous bytes of whole lines (no copy),
    each with its number of lines, in their order; where ``flagged``, the line is replaced by
    the next of ``replacements`` (the same row's line, escaped)."""
    if not len(lines):
        return
    bounds, data = line_bounds(lines)
    if flagged is None or not flagged.any():
        runs = [(0, len(lines), False)]
    else:  # maximal runs of flagged and of other lines, in order
        cuts = np.flatnonzero(np.diff(flagged.astype(np.int8))) + 1
        edges = [0, *cuts.tolist(), len(lines)]
        runs = [(a, b, bool(flagged[a])) for a, b in pairwise(edges)]
    taken = 0
    for first, stop, replaced in runs:
        if replaced:
            yield "".join(replacements[taken : taken + stop - first]).encode(), stop - first
            taken += stop - first
            continue
        row = first
        while row < stop:
            # the first line boundary at least chunk_bytes on (one line at least)
            end = int(np.searchsorted(bounds, bounds[row] + chunk_bytes, side="left"))
            end = min(max(end, row + 1), stop)
            yield data[int(bounds[row]) : int(bounds[end])], end - row
            row = end
