"""Content checksums of a partition, computed inside each database.

Both sides render every value to one canonical text, per column *category* (decided by the
target type and the source dialect): a row's texts are joined and hashed (MD5, or SHA-224
where MariaDB/MySQL is read: its MD5 is ten times slower), the first 15 hex digits read as a
60-bit integer, and the integers summed (exact: DECIMAL/NUMERIC sums never overflow). Equal
sums on source and target mean equal multisets of rows, whatever the order.

Floating-point columns cannot be rendered identically by two engines, so they are compared as
an aggregate: count, sum in double precision on every side, and the largest magnitude, which
bounds how far two sums of the same values in another order may differ (the tolerance, in
``engine.validate``). JSON columns, whose text differs by spacing and key order, and DuckDB
lists of elements rendered differently (floats, timestamps, nested values) are compared by
count of non-NULL values. Both are reported as such, never silently.

Dialects: ``postgresql``, ``mysql``, ``sqlite`` and ``duckdb``; CSV/Parquet folders (dialect
``files``) are DuckDB views and render as ``duckdb``.

PostgreSQL -> PostgreSQL (identical types on both sides) can skip the text: each column is
hashed by its type's own binary hash function (the functions hash partitioning relies on),
seeded by its position, the column hashes XORed and the result mixed once more, so that the
row hash is not a combination of its columns' a sum could cancel (a sum of linear row hashes
could not see one column's values swapped between rows), and the row hashes summed. Rendering
numerics, dates and timestamps to text was most of a check's cost (TPC-H lineitem: 15.7 s of
text and MD5 against 4.5 s with ``hash_record_extended`` over a ``ROW``, 2.6 s per column:
forming each row's record was half of it). Only types whose hash sees every difference the
text would are hashed so (:data:`BINARY_HASHED`; text compared byte for byte under
``COLLATE "C"``); the rest are hashed as their text. ``binary_hash_agrees`` checks that both
servers compute the same hashes before a validation relies on them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

from workbench.connectors import dialect_of
from workbench.connectors.base import Partition, PartitionChecksum
from workbench.connectors.dialect import ChecksumSql
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
    same_type: bool = False  # read plain from a column of the target's own type (PG -> PG)


def category_of(pg_type: str, source_native: str = "", source_dialect: str = "") -> str:
    """The canonical-text category of a target column (the source may decide some itself)."""
    t = pg_type.strip().lower()
    own = _checksum_sql(source_dialect).category if source_dialect else None
    decided = own(t, source_native) if own is not None else None
    if decided is not None:
        return decided
    if t.endswith("[]"):
        return "text"
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
        "inet": "inet",  # an address: its text without the /32 or /128 that ::text adds
    }.get(base, "text")


def numeric_scale(pg_type: str) -> int | None:
    m = re.search(r"numeric\s*\(\s*\d+\s*,\s*(\d+)\s*\)", pg_type.lower())
    return int(m.group(1)) if m else None


def _checksum_sql(dialect: str) -> ChecksumSql:
    found = dialect_of(dialect).checksum
    if found is None:
        raise UnsupportedError(f"Checksums are not available for {dialect} sources")
    return found


def canonical(
    dialect: str,
    category: str,
    expr: str,
    source_dialect: str,
    pg_type: str = "",
    is_utf8: bool = True,
) -> str:
    """SQL giving the canonical text of ``expr`` (NULL stays NULL) on a side of ``dialect``."""
    side, source = _checksum_sql(dialect), _checksum_sql(source_dialect)
    if side.is_target_engine and source.is_target_engine:  # identical types: their own text
        padded = pg_type.strip().lower().startswith(("char", "character(", "bpchar"))
        bare = category in ("int", "numeric") or (category == "text" and not padded)
        return expr if bare else f"({expr})::text"
    if side.is_target_engine and category in source.target_renderings:
        return source.target_renderings[category].format(e=expr)
    if side.special is not None:
        special = side.special(category, expr, pg_type, is_utf8)
        if special is not None:
            return special
    if category in side.implicit and source.typed_values:
        return expr
    try:
        return side.canonical[category].format(e=expr)
    except KeyError:
        raise UnsupportedError(
            f"No canonical checksum rendering for {dialect} {category}"
        ) from None


def row_digest(source_dialect: str) -> str:
    """The digest of each row's text both sides compute when ``source_dialect`` is read."""
    return _checksum_sql(source_dialect).row_digest


def hash_sum_sql(dialect: str, parts: Sequence[tuple[str, bool]], digest: str = "md5") -> str:
    """An aggregate: the exact sum of per-row 60-bit hashes (the first 15 hex digits of the
    ``digest`` of the canonical row text)."""
    side = _checksum_sql(dialect)
    if digest not in side.digests:
        raise UnsupportedError(f"{dialect} checksums cannot compute {digest}")
    row = side.row_text(parts) if parts else "''"
    return side.hash_sum.format(hex=side.digests[digest].format(row=row))


def hash60(text: str, digest: str = "md5") -> int:
    """Python twin of the SQL row hash (for SQLite and for tests)."""
    return int(hashlib.new(digest, text.encode("utf-8")).hexdigest()[:15], 16)


class Hash60Sum:
    """SQLite aggregate ``wb_hash60_sum(text)``: the sum as text (SQLite integers are 64-bit)."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, value: str | None) -> None:
        if value is not None:
            self.total += hash60(value)

    def finalize(self) -> str:
        return str(self.total)


# PostgreSQL types whose binary hash tells apart every two values their text tells apart.
# Left out: unconstrained numeric (1.5 and 1.50 hash alike), interval ('1 day' and '24 hours'
# hash alike), floats (compared as sums), arrays, json, and user types (an enum hashes its
# label's OID, which differs between databases).
BINARY_HASHED = frozenset(
    {
        "smallint", "integer", "bigint", "int2", "int4", "int8", "boolean", "bool", "date",
        "timestamp", "timestamp without time zone", "timestamptz", "timestamp with time zone",
        "time", "time without time zone", "text", "varchar", "character varying", "bpchar",
        "char", "character", "bytea", "uuid",
    }
)  # fmt: skip
_COLLATABLE = ("text", "varchar", "character varying", "bpchar", "char", "character")


def _bare_type(pg_type: str) -> str:
    """The type's name, lower case, without its modifiers: ``varchar(3)`` -> ``varchar``."""
    return re.sub(r" ?\([\d\s,]*\)", "", re.sub(r"\s+", " ", pg_type.strip().lower()))


def _binary_hashed(pg_type: str) -> bool:
    t = re.sub(r"\s+", " ", pg_type.strip().lower())
    if re.fullmatch(r"(numeric|decimal) ?\( ?\d+ ?, ?\d+ ?\)", t):
        return True  # a fixed scale: the same value has one text
    return _bare_type(t) in BINARY_HASHED


def same_engine(source_dialect: str) -> bool:
    """Whether sources of this dialect are PostgreSQL servers, as the target is (their
    values can be compared by binary hashes, see the module's note)."""
    return _checksum_sql(source_dialect).is_target_engine


def binary_hash_agrees(source: Any, target: Any) -> bool:
    """Whether two PostgreSQL servers (connectors) hash the probe values alike: the same hash
    functions (PostgreSQL 11 or newer) and byte order."""
    try:
        return bool(source.run(_PROBE) == target.run(_PROBE))
    except Exception:  # an older server has no such function: the text checksum serves
        return False


# Each type's binary hash, as hash partitioning calls it ({e}: the value, {s}: the seed).
# A date is hashed as the timestamp of its midnight (no hash function takes a date in SQL);
# dates past timestamp's range (and +infinity) as a one-field record, as bytea is.
_HASH_OF = {
    "smallint": "hashint2extended({e}, {s})",
    "int2": "hashint2extended({e}, {s})",
    "integer": "hashint4extended({e}, {s})",
    "int4": "hashint4extended({e}, {s})",
    "bigint": "hashint8extended({e}, {s})",
    "int8": "hashint8extended({e}, {s})",
    "numeric": "hash_numeric_extended({e}, {s})",
    "boolean": "hashint4extended(({e})::int4, {s})",
    "bool": "hashint4extended(({e})::int4, {s})",
    "date": (
        "CASE WHEN {e} > date '294276-12-31' THEN hash_record_extended(ROW({e}), {s})"
        " ELSE timestamp_hash_extended(({e})::timestamp, {s}) END"
    ),
    "timestamp": "timestamp_hash_extended({e}, {s})",
    "timestamp without time zone": "timestamp_hash_extended({e}, {s})",
    # the instant in UTC: the same timestamp whatever each session's TimeZone
    "timestamptz": "timestamp_hash_extended({e} AT TIME ZONE 'UTC', {s})",
    "timestamp with time zone": "timestamp_hash_extended({e} AT TIME ZONE 'UTC', {s})",
    "time": "time_hash_extended({e}, {s})",
    "time without time zone": "time_hash_extended({e}, {s})",
    "text": "hashtextextended({e}, {s})",
    "varchar": "hashtextextended({e}, {s})",
    "character varying": "hashtextextended({e}, {s})",
    "bpchar": "hashbpcharextended({e}, {s})",
    "char": "hashbpcharextended({e}, {s})",
    "character": "hashbpcharextended({e}, {s})",
    "bytea": "hash_record_extended(ROW({e}), {s})",  # its function takes no bytea in SQL
    "uuid": "uuid_hash_extended({e}, {s})",
}


def _null_mark(position: int) -> int:
    """A NULL's hash in column ``position``: a fixed 64-bit constant of its own."""
    value = int(hashlib.md5(f"null {position}".encode()).hexdigest()[:16], 16)
    return value - (1 << 64) if value >= 1 << 63 else value


def _column_hash(expression: str, pg_type: str | None, position: int, nullable: bool) -> str:
    """Column ``position``'s 64-bit hash: of its binary value as ``pg_type`` (one that
    ``_binary_hashed`` accepts), or of ``expression``'s text where ``pg_type`` is None."""
    template, typed = _HASH_OF["text"], expression
    if pg_type is not None:
        bare = _bare_type(pg_type)
        template, typed = _HASH_OF[bare], f"(({expression})::{pg_type})"
        if bare in _COLLATABLE:
            typed = f'({typed} COLLATE "C")'
    term = template.format(e=typed, s=position + 1)
    return f"coalesce({term}, {_null_mark(position)})" if nullable else term


def _binary_row_hash_sum(
    columns: Sequence[ChecksumColumn], source_dialect: str, pg_types: dict[str, str]
) -> str:
    terms = []
    for i, c in enumerate(columns):
        pg_type = pg_types.get(c.name, "")
        if c.same_type and _binary_hashed(pg_type):
            # as the plan's type: a no-op where the column has it, and where a job appended
            # into a table of another type, both sides hash the same type (as the text does)
            terms.append(_column_hash(c.expression, pg_type, i, c.nullable))
        else:
            text = canonical("postgresql", c.category, c.expression, source_dialect, pg_type)
            typed = f'(({text})::text COLLATE "C")'
            terms.append(_column_hash(typed, None, i, c.nullable))
    if not terms:
        return "0"
    # sum(bigint) is exact (a numeric result, accumulated in 128 bits)
    return f"coalesce(sum(hashint8extended({' # '.join(terms)}, 0)), 0)"


# a value of each type above, hashed on both servers before a validation relies on the hashes
_PROBE_VALUES = [
    ("-7", "smallint"), ("1234567", "integer"), ("-3", "bigint"), ("true", "boolean"),
    ("date '2024-02-29'", "date"), ("date 'infinity'", "date"),
    ("timestamp '2024-02-29 23:59:59.123456'", "timestamp"),
    ("timestamptz '2024-02-29 23:59:59.5+05:30'", "timestamp with time zone"),
    ("time '12:34:56.789'", "time"), ("'Ünïcode\t'", "text"), ("'x'", "varchar(3)"),
    ("'y'", "char(4)"), ("'\\x00ff'", "bytea"),
    ("'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "uuid"), ("12.50", "numeric(6,2)"),
    ("NULL", "integer"),
]  # fmt: skip
_PROBE = "SELECT " + _binary_row_hash_sum(
    [ChecksumColumn(f"c{i}", v, "", same_type=True) for i, (v, _) in enumerate(_PROBE_VALUES)],
    "postgresql",
    {f"c{i}": t for i, (_, t) in enumerate(_PROBE_VALUES)},
)


def checksum_select(
    dialect: str,
    source_dialect: str,
    columns: Sequence[ChecksumColumn],
    pg_types: dict[str, str],
    binary: bool = False,
) -> tuple[str, list[str]]:
    """The SELECT list: count(*), the exact hash sum, then per approximate column its count,
    its sum and its largest magnitude, in double precision (the magnitude bounds how far two
    sums of the same values in another order can differ); JSON columns: count only.
    ``binary``: PostgreSQL on both sides, hashed by values (see the module's note)."""
    exact_columns = [c for c in columns if c.category not in (APPROXIMATE, PRESENCE)]
    if binary and not (same_engine(dialect) and same_engine(source_dialect)):
        raise UnsupportedError("binary row hashes compare PostgreSQL with PostgreSQL only")
    if binary:
        hash_sum = _binary_row_hash_sum(exact_columns, source_dialect, pg_types)
    else:
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
            for c in exact_columns
        ]
        hash_sum = hash_sum_sql(dialect, exact, row_digest(source_dialect))
    items = ["COUNT(*)", hash_sum]
    extra: list[str] = []
    double = _checksum_sql(dialect).double
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
    binary: bool = False,
) -> PartitionChecksum:
    """Run the checksum query through ``connector.run``; ``schema``/``name`` override the table
    reference (the target side checks the target table with the source partition's key range,
    expressed in target column names). ``exclude`` = (key columns, key tuples) leaves rows out
    (the source rows the job quarantined)."""
    dialect = connector.capabilities.dialect
    select, extra = checksum_select(dialect, source_dialect, columns, pg_types, binary)
    placeholder = dialect_of(dialect).placeholder
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
    ref = _reference(table, dialect, schema, name)
    if placeholder == "%s":  # pyformat drivers: a literal % in the SQL text must be doubled
        select, ref = select.replace("%", "%%"), ref.replace("%", "%%")
    row = connector.run(f"SELECT {select} FROM {ref}{where(predicate)}", params)[0]
    return _checksum_of(row, extra)


def checksum_partitions(
    connector: Any,
    table: Table,
    partitions: Sequence[Partition],
    columns: Sequence[ChecksumColumn],
    source_dialect: str,
    pg_types: dict[str, str],
    schema: str | None = None,
    name: str | None = None,
    binary: bool = False,
) -> list[PartitionChecksum]:
    """The checksums of contiguous key ranges (each partition's upper bound the next one's
    lower, the first and last unbounded) in one scan, each row numbered by the range holding
    it: what a table without an index yet needs (the target before its primary key is built:
    one query per range read the whole table each time)."""
    if not contiguous(partitions):
        raise UnsupportedError("checksums of several partitions need contiguous key ranges")
    dialect = connector.capabilities.dialect
    select, extra = checksum_select(dialect, source_dialect, columns, pg_types, binary)
    placeholder = dialect_of(dialect).placeholder
    bucket, params = _bucket(list(partitions), dialect, placeholder)
    ref = _reference(table, dialect, schema, name)
    if placeholder == "%s":
        select, ref = select.replace("%", "%%"), ref.replace("%", "%%")
    rows = connector.run(f"SELECT {bucket}, {select} FROM {ref} GROUP BY 1", params)
    found = {row[0]: _checksum_of(row[1:], extra) for row in rows if row[0] is not None}
    empty = (0, 0, *((0, None, None) * len(extra)))  # what an aggregate over no rows says
    return [found.get(p.index) or _checksum_of(empty, extra) for p in partitions]


def contiguous(partitions: Sequence[Partition]) -> bool:
    """Whether the partitions, in order, cover the key space without gaps or overlaps."""
    return (
        len(partitions) > 1
        and partitions[0].lower is None
        and partitions[-1].upper is None
        and all(a.upper is not None and a.upper == b.lower for a, b in pairwise(partitions))
    )  # fmt: skip


def _bucket(partitions: list[Partition], dialect: str, placeholder: str) -> tuple[str, list[Any]]:
    """A CASE numbering each row by the partition holding it: a binary search over the lower
    bounds, confirmed at the leaf by the partition's own predicate (a row it does not hold,
    such as a NULL key, is numbered NULL, as no range query would count it)."""
    if len(partitions) == 1:
        predicate, params = partition_predicate(partitions[0], dialect, placeholder)
        return f"CASE WHEN {predicate} THEN {partitions[0].index} END", params
    mid = len(partitions) // 2
    below = replace(partitions[mid], lower=None, upper=partitions[mid].lower)
    condition, params = partition_predicate(below, dialect, placeholder)
    left, left_params = _bucket(partitions[:mid], dialect, placeholder)
    right, right_params = _bucket(partitions[mid:], dialect, placeholder)
    return (
        f"CASE WHEN {condition} THEN {left} ELSE {right} END",
        [*params, *left_params, *right_params],
    )


def _reference(table: Table, dialect: str, schema: str | None, name: str | None) -> str:
    if name is not None:
        return (quote_ident(schema, dialect) + "." if schema else "") + quote_ident(name, dialect)
    return table_ref(table, dialect)


def _checksum_of(row: Sequence[Any], extra: list[str]) -> PartitionChecksum:
    """A checksum query's row: count, hash sum, then (count, sum, magnitude) per column of
    ``extra`` (floats and JSON)."""
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
