"""Cut tables into partitions of similar row counts.

A table is split on its key: the primary key, else a unique constraint over NOT NULL columns.
When the key's first column is an integer, ranges on that column alone are enough (they are
disjoint and cover every row) and cheap for the source to seek; otherwise keyset bounds on
the whole key. The connector's ``split_points`` finds bounds by the data's distribution, so
skewed keys still give similar slices. Tables without a key are one partition.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from decimal import Decimal
from typing import Any

from workbench.connectors.base import Connector, Partition
from workbench.errors import MigrationError
from workbench.schema.model import Table

INTEGER_TYPES = {
    "tinyint",
    "smallint",
    "mediumint",
    "int",
    "integer",
    "bigint",
    "int2",
    "int4",
    "int8",
    "serial",
    "bigserial",
    "smallserial",
    "hugeint",
    "ubigint",
    "uinteger",
    "usmallint",
    "utinyint",
}


def choose_key(table: Table) -> tuple[str, ...]:
    """The columns that identify a row: the primary key, else a NOT NULL unique constraint."""
    if table.primary_key:
        return tuple(table.primary_key)
    nullable = {c.name for c in table.columns if c.nullable}
    for unique in table.uniques:
        if unique.columns and not set(unique.columns) & nullable:
            return tuple(unique.columns)
    for index in table.indexes:
        cols = [c for c in index.columns if c is not None]
        # a partial unique index (WHERE active) keeps its columns unique only where its
        # predicate holds: other rows repeat them, and no key would say which row is which
        whole = index.unique and index.where is None and len(cols) == len(index.columns)
        if whole and cols and not set(cols) & nullable:
            return tuple(cols)
    return ()


def split_columns(table: Table, key: tuple[str, ...]) -> tuple[str, ...]:
    """The key prefix to cut on: an integer first column alone, else the whole key."""
    if not key:
        return ()
    first = table.column(key[0])
    base = first.native.base or first.native
    if base.name.lower() in INTEGER_TYPES and first.native.array_dims == 0:
        return (key[0],)
    return key


def partition_count(
    row_estimate: int | None, partition_rows: int, max_partitions: int = 4096
) -> int:
    if not row_estimate or row_estimate <= partition_rows:
        return 1
    return min(math.ceil(row_estimate / partition_rows), max_partitions)


def bounds_to_partitions(
    table: Table, columns: tuple[str, ...], points: list[tuple[Any, ...]], row_estimate: int | None
) -> list[Partition]:
    """[None, p1), [p1, p2), ..., [pn, None): every row falls in exactly one partition.

    ``points`` come in the source's own order (its collation for text): they are never
    re-sorted here, because Python's code-point order differs from a case- or
    accent-insensitive collation and re-sorted bounds make ranges overlap (rows copied twice).
    """
    points = [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]
    if not columns or not points:
        return [Partition(table.name, table.schema, 0, columns, None, None, row_estimate)]
    edges: list[tuple[Any, ...] | None] = [None, *points, None]
    share = (row_estimate or 0) // (len(edges) - 1) or None
    return [
        Partition(table.name, table.schema, i, columns, edges[i], edges[i + 1], share)
        for i in range(len(edges) - 1)
    ]


def plan_partitions(
    connector: Connector, table: Table, row_estimate: int | None, partition_rows: int
) -> list[Partition]:
    key = choose_key(table)
    parts = partition_count(row_estimate, partition_rows)
    # an array key (PostgreSQL's int[]) has no bound its column compares with as sent: the
    # table is one partition
    if not key or parts == 1 or any(table.column(k).native.array_dims for k in key):
        return [Partition(table.name, table.schema, 0, (), None, None, row_estimate)]
    columns = split_columns(table, key)
    points = [tuple(p) for p in connector.split_points(table, columns, parts)]
    if order_safe(table, columns) and not _ascending(points):
        raise MigrationError(
            f"The split points of {table.qualified_name} came back out of order from the "
            "source; this is a bug in the connector's split_points, please report it",
            table=table.qualified_name,
        )
    return bounds_to_partitions(table, columns, points, row_estimate)


# Key types that order alike in every database and in Python; text does not (collations).
ORDER_SAFE = INTEGER_TYPES | {
    "numeric", "decimal", "date", "datetime", "timestamp", "timestamptz",
}  # fmt: skip


def target_ranges_safe(table: Table, partitions: list[Partition]) -> bool:
    """Whether the partitions' ranges, applied to the target's columns, select the rows each
    range read: the key orders alike in both (:func:`order_safe`) and every bound came back
    as a value of its type. SQLite hands back what a row holds: a text from an INTEGER or
    DATE column (sorted after every number there) is no bound the target's column can take.
    """
    return all(
        order_safe(table, p.key_columns) and _typed(p.lower) and _typed(p.upper) for p in partitions
    )


def _typed(bound: tuple[Any, ...] | None) -> bool:
    return bound is None or all(
        isinstance(v, int | Decimal | dt.date) and not isinstance(v, bool) for v in bound
    )


def _ascending(points: list[tuple[Any, ...]]) -> bool:
    try:
        return all(a < b for a, b in itertools.pairwise(points))
    except TypeError:  # SQLite may mix storage classes in one column: nothing to compare
        return True


def order_safe(table: Table, columns: tuple[str, ...]) -> bool:
    """Whether ranges on ``columns`` select the same rows in the source and in PostgreSQL."""
    for name in columns:
        native = table.column(name).native
        if (native.base or native).name.lower() not in ORDER_SAFE:
            return False
    return True
