"""Sampling rows for the statistics SQL cannot give cheaply (quantiles, top values, shapes,
semantic types).

- a table no larger than the sample is read whole (everything is then exact);
- where the server samples rows itself (PostgreSQL's ``TABLESAMPLE BERNOULLI``), that,
  shuffled and cut to size;
- a single integer key elsewhere: random key ranges (``key >= random start ORDER BY key
  LIMIT n``), cheap on an index, at the price of neighbouring rows being correlated;
- otherwise: a reservoir sample where the database has one (DuckDB), or a random filter.

How each kind spells these is its connector's ``dialect.sample``.

The sample never holds more than ``size`` rows, and its method and size are reported.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.connectors.dialect import SqlDialect
from workbench.schema.model import Table

RANGES = 20  # random key ranges per sample

INTEGER_NATIVE = {
    "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "int2", "int4", "int8",
    "serial", "bigserial", "smallserial", "hugeint", "ubigint", "uinteger", "usmallint",
}  # fmt: skip


@dataclass
class Sample:
    columns: list[str]
    rows: list[tuple]
    method: str

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [r[i] for r in self.rows]


def _select_list(columns: Sequence[str], dialect: SqlDialect, read: dict[str, str]) -> str:
    return ", ".join(read.get(c, dialect.quote(c)) for c in columns)


def sample_rows(
    run: Callable[[str], list[tuple]],
    table: Table,
    dialect: SqlDialect,
    rows: int,
    size: int,
    *,
    seed: int = 0,
    read: dict[str, str] | None = None,
    columns: Sequence[str] | None = None,
) -> Sample:
    """At most ``size`` rows of ``table`` (all if it has no more), and how they were chosen.

    ``read`` may replace a column by an expression (e.g. a text cast for a value the driver
    cannot hand out), kept under the column's position.
    """
    names = list(columns or table.column_names)
    select = _select_list(names, dialect, read or {})
    ref = dialect.table_ref(table)
    if rows <= size:
        return Sample(names, [tuple(r) for r in run(f"SELECT {select} FROM {ref}")], "whole table")
    fraction = min(1.0, size / rows * 1.2)
    how = dialect.sample
    fill = {"select": select, "ref": ref, "size": int(size), "seed": seed}
    if how.server_sample is not None:
        sql = how.server_sample.format(**fill, percent=f"{fraction * 100:.6f}")
        return Sample(names, [tuple(r) for r in run(sql)], how.server_method)
    key = _integer_key(table)
    if key is not None:
        got = _key_ranges(
            run,
            ref,
            select,
            dialect.quote(key),
            names.index(key) if key in names else None,
            size,
            seed,
        )
        if got is not None:
            return Sample(names, got, "random key ranges")
    if how.reservoir is not None:
        rows_got = [tuple(r) for r in run(how.reservoir.format(**fill))]
        return Sample(names, rows_got, "reservoir sample")
    sql = (
        f"SELECT * FROM (SELECT {select} FROM {ref} WHERE {how.random_fraction} < {fraction:.8f})"
        f" AS s ORDER BY {how.shuffle} LIMIT {int(size)}"
    )
    return Sample(names, [tuple(r) for r in run(sql)], "random filter")


def _integer_key(table: Table) -> str | None:
    if len(table.primary_key) != 1:
        return None
    native = table.column(table.primary_key[0]).native
    name = native.name.lower()
    if name in INTEGER_NATIVE or (native.raw.upper().startswith("INT") and not native.array_dims):
        return table.primary_key[0]
    return None


def _key_ranges(
    run: Callable[[str], list[tuple]],
    ref: str,
    select: str,
    key: str,
    key_index: int | None,
    size: int,
    seed: int,
) -> list[tuple] | None:
    low, high = run(f"SELECT MIN({key}), MAX({key}) FROM {ref}")[0]
    if low is None or high is None:
        return None
    rng = random.Random(seed)
    per_range = max(1, -(-size // RANGES))
    out: list[tuple] = []
    seen: set[Any] = set()
    for _attempt in range(RANGES * 3):  # a range near the top may come back short: draw again
        if len(out) >= size:
            break
        start = rng.randint(int(low), int(high))
        sql = f"SELECT {select} FROM {ref} WHERE {key} >= {start} ORDER BY {key} LIMIT {per_range}"
        for row in run(sql):
            ident = row[key_index] if key_index is not None else id(row)
            if ident in seen:
                continue  # overlapping ranges: each row once
            seen.add(ident)
            out.append(tuple(row))
    return out[:size]
