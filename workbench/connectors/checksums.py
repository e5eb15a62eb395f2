"""Content checksums of a partition, computed inside each database.

Both sides render every value to one canonical text, per column *category* (decided by the
target type and the source dialect): a row's texts are joined, MD5-hashed, the first 15 hex
digits read as a 60-bit integer, and the integers summed (exact: DECIMAL/NUMERIC sums never
overflow). Equal sums on source and target mean equal multisets of rows, whatever the order.

Floating-point columns cannot be rendered identically by two engines, so they are compared as
an aggregate (count and sum, relative tolerance); JSON columns, whose text differs by spacing
and key order, by count of non-NULL values. Both are reported as such, never silently.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workbench.connectors.base import Partition, PartitionChecksum
from workbench.connectors.sqltext import partition_predicate, quote_ident, table_ref, where
from workbench.errors import UnsupportedError
from workbench.schema.model import Table

APPROXIMATE = "float"
PRESENCE = "presence"


@dataclass(frozen=True)
class ChecksumColumn:
    """One column as each side sees it: a SQL value expression and its category."""

    name: str  # target column name, for reports
    expression: str  # SQL in this side's dialect: a quoted column or a read expression
    category: str
    nullable: bool = True  # NOT NULL columns need no NULL marker (cheaper rows)
    is_utf8: bool = True  # MySQL text already in a UTF-8 charset needs no CONVERT


def category_of(pg_type: str, source_native: str = "", source_dialect: str = "") -> str:
    """The canonical-text category of a target column."""
    t = pg_type.strip().lower()
    if t.endswith("[]"):
        return "set" if source_dialect == "mysql" and source_native.startswith("set") else "text"
    base = re.split(r"[\s(]", t, maxsplit=1)[0]
    if t.startswith(("timestamp with time zone", "timestamptz")):
        return "timestamptz"
    if t.startswith(("timestamp", "datetime")):
        return "timestamp"
    if t.startswith("double precision") or base in ("real", "float4", "float8", "float"):
        return APPROXIMATE
    if t.startswith("bit"):
        return "bit"
    return {
        "smallint": "int",
        "integer": "int",
        "int": "int",
        "bigint": "int",
        "int2": "int",
        "int4": "int",
        "int8": "int",
        "numeric": "numeric",
        "decimal": "numeric",
        "boolean": "bool",
        "bool": "bool",
        "date": "date",
        "interval": "interval",
        "time": "interval",
        "bytea": "bytea",
        "json": PRESENCE,
        "jsonb": PRESENCE,
    }.get(base, "text")


# Canonical text per (dialect, category); {e} is the value expression. PostgreSQL -> PostgreSQL
# compares `::text` of identical types, so it never needs these.
_CANONICAL: dict[str, dict[str, str]] = {
    "postgresql": {
        "int": "({e})::text",
        "numeric": "({e})::text",
        "text": "({e})::text",
        "set": "array_to_string({e}, ',')",
        "bool": "CASE WHEN {e} THEN 't' WHEN NOT {e} THEN 'f' END",
        "date": "to_char({e}, 'YYYY-MM-DD')",
        "timestamp": "to_char({e}, 'YYYY-MM-DD HH24:MI:SS.US')",
        "timestamptz": "to_char(({e}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
        "interval": "(extract(epoch from {e}) * 1000000)::numeric(30,0)::text",
        "bytea": "upper(encode({e}, 'hex'))",
        "bit": "({e})::bigint::text",
    },
    "mysql": {
        "int": "CAST({e} AS CHAR)",
        "numeric": "CAST({e} AS CHAR)",
        "text": "CONVERT({e} USING utf8mb4)",
        "set": "CONVERT({e} USING utf8mb4)",
        "bool": "CASE WHEN {e} IS NULL THEN NULL WHEN {e} <> 0 THEN 't' ELSE 'f' END",
        "date": "DATE_FORMAT({e}, '%Y-%m-%d')",
        "timestamp": "DATE_FORMAT({e}, '%Y-%m-%d %H:%i:%s.%f')",
        "timestamptz": "DATE_FORMAT({e}, '%Y-%m-%d %H:%i:%s.%f')",  # session time_zone is UTC
        "interval": "CAST(TIME_TO_SEC({e}) * 1000000 + MICROSECOND({e}) AS CHAR)",
        "bytea": "HEX({e})",
        "bit": "CAST({e} + 0 AS CHAR)",
    },
    "sqlite": {
        "int": "CAST(CAST({e} AS INTEGER) AS TEXT)",
        "numeric": "CAST({e} AS TEXT)",
        "text": "CAST({e} AS TEXT)",
        "set": "CAST({e} AS TEXT)",
        "bool": "CASE WHEN {e} IS NULL THEN NULL WHEN {e} THEN 't' ELSE 'f' END",
        "date": "strftime('%Y-%m-%d', {e})",
        "timestamp": "strftime('%Y-%m-%d %H:%M:%f', {e})",
        "timestamptz": "strftime('%Y-%m-%d %H:%M:%f', {e})",
        "interval": "CAST({e} AS TEXT)",
        "bytea": "CASE WHEN {e} IS NULL THEN NULL ELSE hex({e}) END",  # hex(NULL) is ''
        "bit": "CAST({e} AS TEXT)",
    },
}

# The target side renders some categories to match the source's precision.
_TARGET_FOR_SOURCE: dict[tuple[str, str], str] = {
    ("sqlite", "timestamp"): "to_char({e}, 'YYYY-MM-DD HH24:MI:SS.MS')",
    ("sqlite", "timestamptz"): "to_char(({e}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS')",
}


def numeric_scale(pg_type: str) -> int | None:
    m = re.search(r"numeric\s*\(\s*\d+\s*,\s*(\d+)\s*\)", pg_type.lower())
    return int(m.group(1)) if m else None


# Categories whose canonical text is what the concatenation renders by itself: integers and
# decimals in both; dates in PostgreSQL's ISO DateStyle (the connectors set it) and in MySQL.
# Skipping a conversion call per value is most of a checksum's cost.
_IMPLICIT = {
    "postgresql": {"int", "numeric", "text", "date"},
    "mysql": {"int", "numeric", "date"},
}


def canonical(
    dialect: str,
    category: str,
    expr: str,
    source_dialect: str,
    pg_type: str = "",
    is_utf8: bool = True,
) -> str:
    """SQL giving the canonical text of ``expr`` (NULL stays NULL) on a side of ``dialect``."""
    padded = pg_type.strip().lower().startswith(("char", "character(", "bpchar"))
    if source_dialect == "postgresql" and dialect == "postgresql":
        bare = category in ("int", "numeric") or (category == "text" and not padded)
        return expr if bare else f"({expr})::text"
    if dialect == "postgresql" and category == "text" and padded:
        return f"({expr})::text"  # char(n) prints its padding; ::text drops it, as MySQL does
    if dialect == "postgresql" and (source_dialect, category) in _TARGET_FOR_SOURCE:
        return _TARGET_FOR_SOURCE[(source_dialect, category)].format(e=expr)
    if category in _IMPLICIT.get(dialect, ()) and source_dialect != "sqlite":
        return expr
    if dialect == "mysql" and category == "text" and is_utf8:
        return expr
    if dialect == "sqlite" and category == "numeric":
        scale = numeric_scale(pg_type)
        if scale is not None:  # SQLite keeps decimals as REAL: render with the target's scale
            return f"CASE WHEN {expr} IS NULL THEN NULL ELSE printf('%.{scale}f', {expr}) END"
    try:
        return _CANONICAL[dialect][category].format(e=expr)
    except KeyError:
        raise UnsupportedError(
            f"No canonical checksum rendering for {dialect} {category}"
        ) from None


def _row_text(dialect: str, parts: Sequence[tuple[str, bool]]) -> str:
    """The canonical row: values joined by U+001F, NULL as U+001E (only where it can occur)."""
    if dialect == "postgresql":
        return (
            "concat_ws(chr(31), "
            + ", ".join(f"coalesce(({p})::text, chr(30))" if null else p for p, null in parts)
            + ")"
        )
    if dialect == "mysql":
        sep, marker = "CHAR(31 USING utf8mb4)", "CHAR(30 USING utf8mb4)"
        return (
            f"CONCAT_WS({sep}, "
            + ", ".join(f"COALESCE({p}, {marker})" if null else p for p, null in parts)
            + ")"
        )
    if dialect == "sqlite":
        return " || char(31) || ".join(f"coalesce({p}, char(30))" for p, _ in parts)
    raise UnsupportedError(f"Checksums are not available for {dialect} sources")


def hash_sum_sql(dialect: str, parts: Sequence[tuple[str, bool]]) -> str:
    """An aggregate: the exact sum of per-row 60-bit hashes of the canonical row text."""
    row = _row_text(dialect, parts) if parts else "''"
    if dialect == "postgresql":
        return f"coalesce(sum(('x' || substr(md5({row}), 1, 15))::bit(60)::bigint), 0)"
    if dialect == "mysql":
        return f"COALESCE(SUM(CAST(CONV(SUBSTRING(MD5({row}), 1, 15), 16, 10) AS UNSIGNED)), 0)"
    return f"wb_hash60_sum({row})"  # SQLite: an aggregate the connector registers


def hash60(text: str) -> int:
    """Python twin of the SQL row hash (for SQLite and for tests)."""
    return int(hashlib.md5(text.encode("utf-8")).hexdigest()[:15], 16)


class Hash60Sum:
    """SQLite aggregate ``wb_hash60_sum(text)``: the sum as text (SQLite integers are 64-bit)."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, value: str | None) -> None:
        if value is not None:
            self.total += hash60(value)

    def finalize(self) -> str:
        return str(self.total)


def checksum_select(
    dialect: str, source_dialect: str, columns: Sequence[ChecksumColumn], pg_types: dict[str, str]
) -> tuple[str, list[str]]:
    """The SELECT list: count(*), the exact hash sum, then count+sum per approximate column."""
    exact = [
        (
            canonical(
                dialect,
                c.category,
                c.expression,
                source_dialect,
                pg_types.get(c.name, ""),
                c.is_utf8,
            ),
            c.nullable,
        )
        for c in columns
        if c.category not in (APPROXIMATE, PRESENCE)
    ]
    items = ["COUNT(*)", hash_sum_sql(dialect, exact)]
    extra: list[str] = []
    for c in columns:
        if c.category == APPROXIMATE:
            items += [f"COUNT({c.expression})", f"SUM({c.expression})"]
            extra.append(c.name)
        elif c.category == PRESENCE:
            items += [f"COUNT({c.expression})", "NULL"]
            extra.append(c.name)
    return ", ".join(items), extra


def checksum_partition(
    connector: Any,
    table: Table,
    partition: Partition | None,
    columns: Sequence[ChecksumColumn],
    source_dialect: str,
    pg_types: dict[str, str],
    schema: str | None = None,
    name: str | None = None,
    exclude: tuple[Sequence[str], Sequence[tuple]] | None = None,
) -> PartitionChecksum:
    """Run the checksum query through ``connector.run``; ``schema``/``name`` override the table
    reference (the target side checks the target table with the source partition's key range,
    expressed in target column names). ``exclude`` = (key columns, key tuples) leaves rows out
    (the source rows the job quarantined)."""
    dialect = connector.capabilities.dialect
    select, extra = checksum_select(dialect, source_dialect, columns, pg_types)
    placeholder = "?" if dialect == "sqlite" else "%s"
    predicate, params = partition_predicate(partition, dialect, placeholder)
    if exclude is not None and exclude[1]:
        keys, values = exclude
        cols = ", ".join(quote_ident(k, dialect) for k in keys)
        one = "(" + ", ".join([placeholder] * len(keys)) + ")"
        lhs = cols if len(keys) == 1 else f"({cols})"
        rows = ", ".join([one if len(keys) > 1 else placeholder] * len(values))
        clause = f"NOT ({lhs} IN ({rows}))"
        predicate = f"{predicate} AND {clause}" if predicate else clause
        params = [*params, *(v for key in values for v in key)]
    if name is not None:
        ref = (quote_ident(schema, dialect) + "." if schema else "") + quote_ident(name, dialect)
    else:
        ref = table_ref(table, dialect)
    if placeholder == "%s":  # pyformat drivers: a literal % in the SQL text must be doubled
        select, ref = select.replace("%", "%%"), ref.replace("%", "%%")
    row = connector.run(f"SELECT {select} FROM {ref}{where(predicate)}", params)[0]
    column_sums: dict[str, int] = {}
    details: dict[str, Any] = {}
    for i, col in enumerate(extra):
        count, total = row[2 + 2 * i], row[3 + 2 * i]
        details[col] = (int(count or 0), None if total is None else float(total))
        column_sums[col] = int(count or 0)
    result = PartitionChecksum(
        rows=int(row[0]), checksum=int(row[1] or 0), column_checksums=column_sums
    )
    object.__setattr__(result, "approximate", details)
    return result
