"""SQLite's content checksums without a Python call per row.

SQLite has no MD5, so its checksum queries call ``wb_hash60_sum``, an aggregate the connector
registers in Python (``checksums.Hash60Sum``). That costs a Python call per row and holds the
GIL, so a validation's threads hashed one at a time (TPC-H lineitem, 240,000 rows: 1.47
CPU-s, of which the canonical text 0.9). Here the same query runs with that call taken out
(SQLite still counts and sums), and the rows' canonical text is read by connectorx and
hashed by DuckDB's ``md5``, both in native code that releases the GIL (0.88 + 0.17 s). The
result is the same number: MD5 of each row's UTF-8 text, its first 60 bits, summed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from workbench.connectors.sqlite_arrow import can_read, inline, stream
from workbench.errors import SourceQueryError

log = logging.getLogger(__name__)

CALL = "wb_hash60_sum("
STREAM_ROWS = 50_000


def _marks(sql: str, start: int) -> list[tuple[int, str, int]]:
    """From ``start`` (inside a SELECT list, depth 0) to the list's FROM: each comma,
    closing parenthesis and the FROM outside quotes, with the depth of parentheses after it."""
    out: list[tuple[int, str, int]] = []
    depth, i, quote = 0, start, ""
    while i < len(sql):
        ch = sql[i]
        if quote:
            if ch == quote:
                if i + 1 < len(sql) and sql[i + 1] == quote:  # '' or "" inside a quote
                    i += 1
                else:
                    quote = ""
        elif ch in "'\"`[":
            quote = "]" if ch == "[" else ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            out.append((i, ")", depth))
        elif ch == ",":
            out.append((i, ",", depth))
        elif depth == 0 and sql[i : i + 6].upper() == " FROM ":
            out.append((i, "FROM", depth))
            break
        i += 1
    return out


def split_hash(sql: str) -> tuple[str, int, str, str] | None:
    """(the query with the hash call replaced by a NULL aggregate, the call's position in the SELECT
    list, the row expression it hashes, the query's FROM clause and after), or None when
    ``sql`` is not one SELECT with one such call in its list."""
    if not sql.startswith("SELECT ") or sql.count(CALL) != 1:
        return None
    start = sql.index(CALL)
    marks = _marks(sql, len("SELECT "))
    position = sum(1 for i, kind, depth in marks if kind == "," and depth == 0 and i < start)
    close = next((i for i, kind, depth in marks if kind == ")" and depth == 0 and i > start), None)
    rest = next((i for i, kind, _ in marks if kind == "FROM"), None)
    if close is None or rest is None or close > rest or "GROUP BY" in sql[rest:].upper():
        return None  # one sum over every row only: not per group
    row = sql[start + len(CALL) : close]
    # an aggregate in its place, so that the query still gives one row however it reads
    return sql[:start] + "max(NULL)" + sql[close + 1 :], position, row, sql[rest + 1 :]


def hash_sum(path: str, row: str, tail: str, params: Sequence[Any]) -> int | None:
    """The sum of the 60-bit hashes of ``row`` over ``tail``'s rows (``FROM ...``), or None
    where connectorx or DuckDB cannot compute it (the caller then runs the aggregate)."""
    sql = inline(f"SELECT {row} AS wb_row {tail}", params)
    if sql is None or not can_read(path):
        return None
    import duckdb

    try:  # streamed: a partition's rows never all in memory at once
        rows = stream(path, sql, STREAM_ROWS)
        with duckdb.connect() as con:
            con.register("wb_rows", rows)
            (total,) = con.execute(
                "SELECT coalesce(sum(CAST('0x' || substr(md5(wb_row), 1, 15) AS HUGEINT)), 0)"
                " FROM wb_rows"
            ).fetchone() or (None,)
    except (SourceQueryError, duckdb.Error, OSError) as exc:  # OSError: from the stream
        log.debug("checksum outside SQLite failed (%s): the aggregate computes it", exc)
        return None
    return int(total) if total is not None else None
