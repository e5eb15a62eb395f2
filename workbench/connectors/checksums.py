"""Content checksums of a partition, computed inside each database.

Both sides render every value to one canonical text, per column *category* (decided by the
target type and the source dialect): a row's texts are joined, MD5-hashed, the first 15 hex
digits read as a 60-bit integer, and the integers summed (exact: DECIMAL/NUMERIC sums never
overflow). Equal sums on source and target mean equal multisets of rows, whatever the order.

Floating-point columns cannot be rendered identically by two engines, so they are compared as
an aggregate: count, sum in double precision on every side, and the largest magnitude, which
bounds how far two sums of the same values in another order may differ (the tolerance, in
``engine.validate``). JSON columns, whose text differs by spacing and key order, and DuckDB
lists of elements rendered differently (floats, timestamps, nested values) are compared by
count of non-NULL values. Both are reported as such, never silently.

Dialects: ``postgresql``, ``mysql``, ``sqlite`` and ``duckdb``; CSV/Parquet folders (dialect
``files``) are DuckDB views and render as ``duckdb``.
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
    source_dialect = DIALECT_OF.get(source_dialect, source_dialect)
    if t.endswith("[]"):
        if source_dialect == "duckdb":  # a DuckDB list: rendered as PostgreSQL prints arrays
            return "list" if _list_element(t) is not None else PRESENCE
        return "set" if source_dialect == "mysql" and source_native.startswith("set") else "text"
    base = re.split(r"[\s(]", t, maxsplit=1)[0]
    if source_dialect == "mysql" and source_native.startswith("year"):
        return "year"  # MySQL prints YEAR 0 as '0000'
    if source_dialect == "duckdb" and source_native == "timestamp_ns" and t.startswith("timestamp"):
        return "timestamp_ns"  # rounded to microseconds, as the copy's text is read
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


# Sources read through another dialect's engine: CSV/Parquet folders are DuckDB views.
DIALECT_OF = {"files": "duckdb"}

# Unsigned rendering of bit(n <= 64): ::bigint is signed, so B'1000...0' (2^63) came out negative
_PG_BITS_UNSIGNED = (
    "CASE WHEN ({e})::bigint < 0 THEN (({e})::bigint::numeric + 18446744073709551616)::text"
    " ELSE ({e})::bigint::text END"
)
# MySQL time (and time(fsp)) in microseconds, exactly, from integer parts: MariaDB 10.11's
# TIME_TO_SEC already holds the fraction (MICROSECOND counted it twice). HOUR..MICROSECOND are
# magnitudes; the sign comes from a comparison ('-00:00:00.5' has 0 whole seconds)
_MYSQL_TIME_US = (
    "CAST(IF({e} < TIME '00:00:00', -1, 1) * ((HOUR({e}) * 3600 + MINUTE({e}) * 60"
    " + SECOND({e})) * 1000000 + MICROSECOND({e})) AS CHAR)"
)
# A DuckDB interval (read as text) in microseconds as PostgreSQL's extract(epoch) counts them:
# a year is 365.25 days, a month 30 days; each part keeps its own sign in both engines
_DUCKDB_INTERVAL_US = (
    "CAST(CAST(datepart('year', {i}) AS HUGEINT) * 31557600000000"
    " + CAST(datepart('month', {i}) AS HUGEINT) * 2592000000000"
    " + CAST(datepart('day', {i}) AS HUGEINT) * 86400000000"
    " + CAST(datepart('hour', {i}) AS HUGEINT) * 3600000000"
    " + datepart('minute', {i}) * 60000000 + datepart('microseconds', {i}) AS VARCHAR)"
)

# SQLite keeps times as ISO text, which the copy reads as text: rendered from the text itself
# where it is ISO (strftime rounds to milliseconds: 23:59:59.9999 became the next day, and
# 9999-12-31 23:59:59.9999 NULL), the fraction as its own digits, six of them
_SQLITE_MICROS = (
    "substr(CASE WHEN instr({e}, '.') > 0 THEN substr({e}, instr({e}, '.') + 1) ELSE '' END"
    " || '000000', 1, 6)"
)
_SQLITE_SECONDS = (
    "CASE WHEN {e} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][ T][0-9][0-9]:[0-9][0-9]:"
    "[0-9][0-9]*' THEN replace(substr({e}, 1, 19), 'T', ' ')"
    " ELSE strftime('%Y-%m-%d %H:%M:%S', {e}) END"
)
_SQLITE_TIME_US = (
    "CAST(CASE WHEN {e} GLOB '[0-9][0-9]:[0-9][0-9]*' THEN CAST(substr({e}, 1, 2) AS INTEGER)"
    " * 3600 + CAST(substr({e}, 4, 2) AS INTEGER) * 60 + CAST(substr({e}, 7, 2) AS INTEGER)"
    " ELSE CAST(strftime('%s', '1970-01-01 ' || {e}) AS INTEGER) END * 1000000"
    " + CAST(" + _SQLITE_MICROS + " AS INTEGER) AS TEXT)"
)

# DuckDB TIMESTAMP_NS to microseconds as PostgreSQL reads 9 fraction digits: to the nearest,
# halves up (DuckDB's // and % truncate towards zero)
_DUCKDB_NS_TO_US = (
    "epoch_ns({e}) // 1000 - CASE WHEN epoch_ns({e}) % 1000 < 0 THEN 1 ELSE 0 END"
    " + CASE WHEN (epoch_ns({e}) % 1000 + 1000) % 1000 >= 500 THEN 1 ELSE 0 END"
)

# Canonical text per (dialect, category); {e} is the value expression. PostgreSQL -> PostgreSQL
# compares `::text` of identical types, so it never needs these.
_CANONICAL: dict[str, dict[str, str]] = {
    "postgresql": {
        "int": "({e})::text",
        "timestamp_ns": "to_char({e}, 'YYYY-MM-DD HH24:MI:SS.US')",
        "year": "({e})::text",
        "list": "({e})::text",
        "numeric": "({e})::text",
        "text": "({e})::text",
        "set": "array_to_string({e}, ',')",
        "bool": "CASE WHEN {e} THEN 't' WHEN NOT {e} THEN 'f' END",
        "date": "to_char({e}, 'YYYY-MM-DD')",
        "timestamp": "to_char({e}, 'YYYY-MM-DD HH24:MI:SS.US')",
        "timestamptz": "to_char(({e}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
        "interval": "(extract(epoch from {e}) * 1000000)::numeric(30,0)::text",
        "bytea": "upper(encode({e}, 'hex'))",
        "bit": _PG_BITS_UNSIGNED,
    },
    "mysql": {
        "int": "CAST({e} AS CHAR)",
        "year": "({e} + 0)",
        "numeric": "CAST({e} AS CHAR)",
        "text": "CONVERT({e} USING utf8mb4)",
        "set": "CONVERT({e} USING utf8mb4)",
        "bool": "CASE WHEN {e} IS NULL THEN NULL WHEN {e} <> 0 THEN 't' ELSE 'f' END",
        "date": "DATE_FORMAT({e}, '%Y-%m-%d')",
        "timestamp": "DATE_FORMAT({e}, '%Y-%m-%d %H:%i:%s.%f')",
        "timestamptz": "DATE_FORMAT({e}, '%Y-%m-%d %H:%i:%s.%f')",  # session time_zone is UTC
        "interval": _MYSQL_TIME_US,
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
        "timestamp": _SQLITE_SECONDS + " || '.' || " + _SQLITE_MICROS,
        "timestamptz": _SQLITE_SECONDS + " || '.' || " + _SQLITE_MICROS,
        "interval": _SQLITE_TIME_US,  # time of day
        "bytea": "CASE WHEN {e} IS NULL THEN NULL ELSE hex({e}) END",  # hex(NULL) is ''
        "bit": "CAST({e} AS TEXT)",
    },
    "duckdb": {  # also CSV/Parquet folders (DIALECT_OF)
        "int": "CAST({e} AS VARCHAR)",
        "numeric": "CAST({e} AS VARCHAR)",  # decimal(p,s) prints its scale, as numeric does
        "text": "CAST({e} AS VARCHAR)",  # also enum and uuid (lower case, as PostgreSQL)
        "bool": "CASE WHEN {e} THEN 't' WHEN NOT {e} THEN 'f' END",
        "date": "CAST({e} AS VARCHAR)",
        # strftime would cast TIMESTAMP_S/_MS to nanoseconds (years 1677..2262 only)
        "timestamp": "strftime(CAST({e} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S.%f')",
        "timestamp_ns": "strftime(make_timestamp("
        + _DUCKDB_NS_TO_US
        + "), '%Y-%m-%d %H:%M:%S.%f')",
        "timestamptz": "strftime(({e}) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f')",
        "bytea": "hex({e})",
        "bit": "CAST({e} AS VARCHAR)",
    },
}

# The target side renders some categories to match the source's precision.
_TARGET_FOR_SOURCE: dict[tuple[str, str], str] = {
    ("duckdb", "bit"): "({e})::text",  # bit varying, any length: its 0/1 text
}

# Elements of a DuckDB list rendered as PostgreSQL's array output prints them (an element type
# whose text differs between the two, such as floats or timestamps, leaves the list to a count)
_LIST_ELEMENTS = {
    "smallint": "CAST({x} AS VARCHAR)",
    "integer": "CAST({x} AS VARCHAR)",
    "bigint": "CAST({x} AS VARCHAR)",
    "numeric": "CAST({x} AS VARCHAR)",
    "text": "CAST({x} AS VARCHAR)",
    "uuid": "CAST({x} AS VARCHAR)",
    "date": "CAST({x} AS VARCHAR)",
    "boolean": "CASE WHEN {x} THEN 't' WHEN NOT {x} THEN 'f' END",
}


def _list_element(pg_type: str) -> str | None:
    """The DuckDB rendering of one element of a ``pg_type`` array (None: not renderable)."""
    element = pg_type.strip().lower()[:-2]
    if element.endswith("]"):
        return None  # nested lists
    return _LIST_ELEMENTS.get(re.split(r"[\s(]", element, maxsplit=1)[0])


def _duckdb_lambda(param: str, body: str) -> str:
    """A DuckDB lambda: ``lambda x: ...`` since 1.3 (2.0 refuses ``x -> ...`` by default)."""
    try:
        import duckdb

        version = tuple(int(p) for p in re.findall(r"\d+", duckdb.__version__)[:2])
    except ImportError:  # pragma: no cover - only DuckDB runs this SQL
        version = (2, 0)
    return f"lambda {param}: {body}" if version >= (1, 3) else f"{param} -> {body}"


def _duckdb_list(expr: str, pg_type: str) -> str:
    """PostgreSQL's array output of a DuckDB list: '{1,NULL,"a b","x\\"y"}'. An element is
    quoted when empty, NULL-like, or holding braces, quotes, commas, backslashes or space."""
    element = _list_element(pg_type) or "CAST({x} AS VARCHAR)"
    rendered = f"list_transform({expr}, {_duckdb_lambda('x', element.format(x='x'))})"
    quoted = (
        "CASE WHEN s IS NULL THEN 'NULL' WHEN s = '' OR upper(s) = 'NULL' OR "
        "regexp_matches(s, '[{}\",\\\\ \\t\\n\\r\\v\\f]') "
        "THEN '\"' || replace(replace(s, '\\', '\\\\'), '\"', '\\\"') || '\"' ELSE s END"
    )
    items = f"list_transform({rendered}, {_duckdb_lambda('s', quoted)})"
    text = f"'{{' || array_to_string({items}, ',') || '}}'"
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE {text} END"


def _duckdb_interval(expr: str, pg_type: str) -> str:
    """Microseconds of a time or (text-read) interval, as PostgreSQL's extract(epoch) * 10^6."""
    if pg_type.strip().lower().startswith("time"):
        return f"CAST(epoch_us({expr}) AS VARCHAR)"
    return _DUCKDB_INTERVAL_US.format(i=f"CAST({expr} AS INTERVAL)")


def numeric_scale(pg_type: str) -> int | None:
    m = re.search(r"numeric\s*\(\s*\d+\s*,\s*(\d+)\s*\)", pg_type.lower())
    return int(m.group(1)) if m else None


# Categories whose canonical text is what the concatenation renders by itself: integers and
# decimals in both; dates in PostgreSQL's ISO DateStyle (the connectors set it) and in MySQL.
# Skipping a conversion call per value is most of a checksum's cost.
_IMPLICIT = {
    "postgresql": {"int", "year", "numeric", "text", "date"},
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
    dialect = DIALECT_OF.get(dialect, dialect)
    source_dialect = DIALECT_OF.get(source_dialect, source_dialect)
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
    if dialect == "duckdb" and category == "list":
        return _duckdb_list(expr, pg_type)
    if dialect == "duckdb" and category == "interval":
        return _duckdb_interval(expr, pg_type)
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
    dialect = DIALECT_OF.get(dialect, dialect)
    if dialect in ("postgresql", "duckdb"):
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
    dialect = DIALECT_OF.get(dialect, dialect)
    row = _row_text(dialect, parts) if parts else "''"
    if dialect == "postgresql":
        return f"coalesce(sum(('x' || substr(md5({row}), 1, 15))::bit(60)::bigint), 0)"
    if dialect == "duckdb":  # a BIGINT sum is a HUGEINT: exact
        return f"coalesce(sum(CAST('0x' || substr(md5({row}), 1, 15) AS BIGINT)), 0)"
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


# Floating-point values as double precision: PostgreSQL sums real in single precision (3.4e38
# twice overflows, 1.1 drifts), MySQL sums FLOAT in double. Both convert float4 exactly.
_DOUBLE = {
    "postgresql": "({e})::double precision",
    "mysql": "CAST({e} AS DOUBLE)",
    "sqlite": "CAST({e} AS REAL)",
    "duckdb": "CAST({e} AS DOUBLE)",
}


def checksum_select(
    dialect: str, source_dialect: str, columns: Sequence[ChecksumColumn], pg_types: dict[str, str]
) -> tuple[str, list[str]]:
    """The SELECT list: count(*), the exact hash sum, then per approximate column its count,
    its sum and its largest magnitude, in double precision (the magnitude bounds how far two
    sums of the same values in another order can differ); JSON columns: count only."""
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
    double = _DOUBLE.get(DIALECT_OF.get(dialect, dialect), "{e}")
    for c in columns:
        if c.category == APPROXIMATE:
            value = double.format(e=c.expression)
            items += [f"COUNT({c.expression})", f"SUM({value})", f"MAX(ABS({value}))"]
            extra.append(c.name)
        elif c.category == PRESENCE:
            items += [f"COUNT({c.expression})", "NULL", "NULL"]
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
    exclude: tuple[Sequence[str], Sequence[tuple[Any, ...]]] | None = None,
) -> PartitionChecksum:
    """Run the checksum query through ``connector.run``; ``schema``/``name`` override the table
    reference (the target side checks the target table with the source partition's key range,
    expressed in target column names). ``exclude`` = (key columns, key tuples) leaves rows out
    (the source rows the job quarantined)."""
    dialect = connector.capabilities.dialect
    select, extra = checksum_select(dialect, source_dialect, columns, pg_types)
    placeholder = "?" if dialect in ("sqlite", "duckdb", "files") else "%s"
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
        count, total, magnitude = row[2 + 3 * i : 5 + 3 * i]
        details[col] = (
            int(count or 0),
            None if total is None else float(total),
            None if magnitude is None else float(magnitude),
        )
        column_sums[col] = int(count or 0)
    result = PartitionChecksum(
        rows=int(row[0]), checksum=int(row[1] or 0), column_checksums=column_sums
    )
    object.__setattr__(result, "approximate", details)
    return result
