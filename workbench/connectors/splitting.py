"""Skew-aware split points shared by the SQL connectors.

A single integer key whose values are dense (span at most twice the row count: the catalog's
estimate where it has one, so that no COUNT(*) reads the table) is cut into equal ranges from
MIN/MAX alone. Every other key (sparse or skewed integers, text, dates,
composite keys) gets boundaries from a ``ROW_NUMBER()`` pass over the key (an index-only
scan where the key is indexed), or, above ``sample_threshold`` rows, from the quantiles of a
sample, so each slice holds a similar number of rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from workbench.connectors.sqltext import order_by, quote_ident, table_ref
from workbench.errors import InvalidInputError
from workbench.schema.model import Table

Run = Callable[[str], list[tuple[Any, ...]]]
SAMPLE_KEYS = 100_000  # keys to fetch when sampling a big table
# above this many rows, split points come from a sample's quantiles: the exact ROW_NUMBER pass
# sorts every key (1.4 s for TPC-H orders at SF1, against 0.3 s for the sample)
SAMPLE_THRESHOLD = 500_000
MIN_SAMPLE_PER_PART = 20  # fewer sampled keys than this per slice: exact boundaries instead


def check_keys(table: Table, key_columns: Sequence[str]) -> None:
    if not key_columns:
        raise InvalidInputError(f"split_points on {table.qualified_name} needs key columns")
    for name in key_columns:
        if table.column(name).nullable:
            # a range predicate never matches NULL: rows would be lost between partitions
            raise InvalidInputError(
                f"Column {name!r} of {table.qualified_name} is nullable and cannot partition "
                "the table; use the primary key or a NOT NULL unique key"
            )


def min_max(column: str, src: str) -> str:
    """MIN and MAX as two scalar subqueries: SQLite answers each alone from the index's ends
    but scans the whole index for both in one SELECT (0.3 s for TPC-H orders at SF1)."""
    return f"SELECT (SELECT MIN({column}) FROM {src}), (SELECT MAX({column}) FROM {src})"


def dense_integer_points(lo: int, hi: int, parts: int) -> list[tuple[int]]:
    """Equal ranges over [lo, hi]: up to ``parts - 1`` lower bounds after the first."""
    span = hi - lo + 1
    points = sorted({lo + (span * i) // parts for i in range(1, parts)})
    return [(p,) for p in points if lo < p <= hi]


def quantile_points(sorted_keys: Sequence[tuple[Any, ...]], parts: int) -> list[tuple[Any, ...]]:
    """Boundaries at equal ranks of an ordered list of keys (a sample or all keys)."""
    n = len(sorted_keys)
    points: list[tuple[Any, ...]] = []
    for i in range(1, parts):
        key = tuple(sorted_keys[(n * i) // parts])
        if (not points or key != points[-1]) and key != tuple(sorted_keys[0]):
            points.append(key)
    return points


def split_points(
    run: Run,
    table: Table,
    key_columns: Sequence[str],
    parts: int,
    dialect: str,
    *,
    is_integer: bool,
    sample_from: Callable[[int, int], str | None] | None = None,
    sample_threshold: int = SAMPLE_THRESHOLD,
) -> list[tuple[Any, ...]]:
    """Up to ``parts - 1`` ascending key tuples; ``sample_from(rows, wanted)`` gives a FROM
    clause that samples about ``wanted`` of ``rows`` rows, or None where the table cannot be
    sampled (no ``sample_from``: never sample). Above the threshold, the catalog's row
    estimate decides that a table is sampled, so that no COUNT(*) reads it first."""
    check_keys(table, key_columns)
    if parts <= 1:
        return []
    src = table_ref(table, dialect)
    keys = order_by(key_columns, dialect)
    # an array of integers (PostgreSQL's int[]) is no integer: MIN and MAX are arrays
    if len(key_columns) == 1 and is_integer and not table.column(key_columns[0]).native.array_dims:
        k = quote_ident(key_columns[0], dialect)
        if table.row_estimate:  # MIN and MAX are two index probes; COUNT(*) reads the table
            lo, hi = run(min_max(k, src))[0]
            n = table.row_estimate if lo is not None else 0
        else:
            lo, hi, n = run(f"SELECT MIN({k}), MAX({k}), COUNT(*) FROM {src}")[0]
        if not n:
            return []
        # SQLite: an INTEGER column may hold texts too (they sort after every number): the
        # ends are then no integers, and the exact pass below cuts the key as it sorts
        if isinstance(lo, int) and isinstance(hi, int) and hi - lo + 1 <= 2 * n:
            return dense_integer_points(lo, hi, parts)
    elif table.row_estimate and table.row_estimate > sample_threshold:
        n = table.row_estimate  # decides sampling only: the exact pass below counts
    else:
        n = run(f"SELECT COUNT(*) FROM {src}")[0][0]
        if not n:
            return []
    if sample_from is not None and n > sample_threshold:
        sample = sample_from(n, SAMPLE_KEYS)
        rows = run(f"SELECT {keys} FROM {sample} ORDER BY {keys}") if sample else []
        if len(rows) >= MIN_SAMPLE_PER_PART * parts:
            return quantile_points(rows, parts)
        # too few keys to cut evenly (or none to sample): the exact pass
    if n == table.row_estimate:
        n = run(f"SELECT COUNT(*) FROM {src}")[0][0]
        if not n:
            return []
    step = max(1, math.ceil(n / parts))
    mod = f"(wb_rn - 1) % {step}" if dialect == "sqlite" else f"MOD(wb_rn - 1, {step})"
    sql = (
        f"SELECT {keys} FROM (SELECT {keys}, ROW_NUMBER() OVER (ORDER BY {keys}) AS wb_rn "
        f"FROM {src}) wb_s WHERE wb_rn > 1 AND {mod} = 0 ORDER BY {keys}"
    )
    points: list[tuple[Any, ...]] = []
    for row in run(sql):
        key = tuple(row)
        if not points or key != points[-1]:
            points.append(key)
    return points[: parts - 1]
