"""The types a CSV file's columns are read as: DuckDB's sniffer, checked against every row.

DuckDB types a CSV's columns from a sample of its first rows. Two ways that loses data:
a value past the sample that does not fit the sampled type (``n/a`` in a column of numbers)
failed the copy mid-table, and decimals (``19.99``, ``12345678901234567.891``) were read as
DOUBLE, which keeps 15-17 significant digits and lands as ``double precision``. So before a
CSV is read, every row is checked (two parallel scans, about 1 s per 200 MB):

- a column with values its sampled type cannot take is read as text (a warning names the
  column, the line and the value): nothing is lost, a transform can cast it;
- a DOUBLE column whose every value is a plain decimal (no exponent, NaN or infinity) is read
  as ``DECIMAL(p, s)`` with the widest integer part and scale seen, so it lands as
  ``numeric(p, s)`` digit for digit; past DuckDB's 38 digits it is read as text.

Results are kept per process for a file of the same size and modification time.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from workbench.connectors.sqltext import quote_ident

log = logging.getLogger(__name__)

MAX_DECIMAL_DIGITS = 38  # DuckDB's widest DECIMAL
_CHECKED: dict[tuple[str, int, int], dict[str, str]] = {}


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def type_overrides(duckdb: Any, path: Path) -> dict[str, str]:
    """Column -> DuckDB type for the columns whose sniffed type the whole file contradicts
    or that hold decimals; empty when the sniffer's types hold."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _CHECKED:
        conn = duckdb.connect(":memory:")
        try:
            _CHECKED[key] = _check(conn, path)
        finally:
            conn.close()
    return _CHECKED[key]


def reader_sql(path: Path, overrides: dict[str, str]) -> str:
    """``read_csv_auto(...)`` for ``path`` with ``overrides`` as its column types."""
    if not overrides:
        return f"read_csv_auto({sql_string(str(path))})"
    types = ", ".join(f"{sql_string(name)}: {sql_string(t)}" for name, t in overrides.items())
    return f"read_csv_auto({sql_string(str(path))}, types={{{types}}})"


def _check(conn: Any, path: Path) -> dict[str, str]:
    sniffed = conn.execute(
        f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {reader_sql(path, {})})"
    ).fetchall()
    overrides: dict[str, str] = {}
    for _ in sniffed:  # each round reads a rejected column as text; rejects rarely need two
        rejected = _rejected(conn, path, overrides)
        if not rejected:
            break
        for column, line, value in rejected:
            log.warning(
                "%s: column %r is read as text: line %s has a value its sampled type cannot "
                "take (%s); cast it in a transform if it should be a number or a date",
                path.name,
                column,
                line,
                value,
            )
            overrides[column] = "VARCHAR"
    doubles = [name for name, t in sniffed if t == "DOUBLE" and name not in overrides]
    overrides.update(_decimals(conn, path, doubles))
    return overrides


def _rejected(conn: Any, path: Path, overrides: dict[str, str]) -> list[tuple[str, int, str]]:
    """(column, line, value) of the first value each column could not take, reading every
    row with the sniffed types and ``overrides``."""
    reader = reader_sql(path, overrides)[:-1] + ", store_rejects=true)"
    conn.execute(f"SELECT count(COLUMNS(*)) FROM {reader}").fetchall()  # runs only when fetched
    rows = conn.execute(
        "SELECT column_name, min(line) AS line, arg_min(csv_line, line) FROM reject_errors "
        "WHERE column_name IS NOT NULL GROUP BY column_name ORDER BY line"
    ).fetchall()
    conn.execute("DROP TABLE IF EXISTS reject_errors")
    conn.execute("DROP TABLE IF EXISTS reject_scans")
    return [(str(c), int(line), str(v)[:80]) for c, line, v in rows]


def _decimals(conn: Any, path: Path, columns: list[str]) -> dict[str, str]:
    """DOUBLE columns whose every value is a plain decimal, as ``DECIMAL(p, s)`` (or text
    past 38 digits)."""
    if not columns:
        return {}
    parts = []
    for name in columns:
        v = f"trim({quote_ident(name, 'duckdb')})"
        dot = f"strpos({v}, '.')"
        whole = f"ltrim(split_part(ltrim({v}, '+-'), '.', 1), '0')"
        parts += [
            # DOUBLE's texts hold digits, a sign, a point, or an exponent, NaN or infinity
            f"bool_and(NOT regexp_matches({v}, '[eEnNiI]'))",
            f"coalesce(max(CASE WHEN {dot} > 0 THEN length({v}) - {dot} ELSE 0 END), 0)",
            f"coalesce(max(length({whole})), 0)",
        ]
    row = conn.execute(
        f"SELECT {', '.join(parts)} FROM read_csv_auto({sql_string(str(path))}, all_varchar=true)"
    ).fetchone()
    out: dict[str, str] = {}
    for i, name in enumerate(columns):
        plain, scale, whole = row[3 * i : 3 * i + 3]
        if plain is False:  # None: every value null, nothing to keep
            continue
        precision = max(int(whole) + int(scale), 1)
        if precision > MAX_DECIMAL_DIGITS:
            log.warning(
                "%s: column %r is read as text: its decimals have %d digits, more than the %d "
                "a DECIMAL keeps (cast it in a transform)",
                path.name,
                name,
                precision,
                MAX_DECIMAL_DIGITS,
            )
            out[name] = "VARCHAR"
        else:
            out[name] = f"DECIMAL({precision}, {int(scale)})"
    return out
