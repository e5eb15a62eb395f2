"""Aggregates computed inside the source database: one scan for counts, nulls, min/max,
mean, stddev, lengths and exact distinct counts, and HyperLogLog sketches for approximate
distinct counts of large tables.

Dialect differences are data (each connector's ``dialect.profile``, a
:class:`~workbench.connectors.dialect.ProfileSql`), not branches here. Only numbers the code
renders itself are inlined into SQL; names are quoted for the dialect.

HyperLogLog (Flajolet et al. 2007, m = 1024 registers, standard error about 3.3 %): the
database hashes each value to 64 bits, keeps the low 10 bits as the register and the
position of the first 1 bit of the next 54 bits; ``GROUP BY register`` returns 1024 small
rows per column, and :func:`hll_estimate` turns them into a count. Nothing but those rows
leaves the database.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.connectors.dialect import HLL_BITS, ProfileSql, SqlDialect
from workbench.schema.model import Table

HLL_REGISTERS = 1 << HLL_BITS

CATEGORY_OF_PG_TYPE: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("smallint", "integer", "bigint", "numeric", "real", "double precision", "decimal"),
        "numeric",
    ),
    (("timestamp", "date", "time", "interval"), "temporal"),
    (("boolean",), "boolean"),
    (("text", "character varying", "varchar", "character", "char", "citext", "uuid"), "text"),
    (("bytea",), "binary"),
    (("json", "jsonb"), "json"),
)


def category(pg_type: str) -> str:
    """numeric, temporal, boolean, text, binary, json or other, from the planned PG type."""
    base = pg_type.lower().split("(")[0].strip()
    if base.endswith("[]"):
        return "other"
    for names, cat in CATEGORY_OF_PG_TYPE:
        if any(base == n or base.startswith(n + " ") for n in names):
            return cat
    if base.startswith(("timestamp", "time ")):
        return "temporal"
    return "text" if base.startswith("enum") or base.startswith('"') else "other"


@dataclass
class ColumnAggregates:
    rows: int
    nulls: int
    distinct: int | None = None
    distinct_method: str = "exact"
    min: Any = None
    max: Any = None
    mean: float | None = None
    stddev: float | None = None
    length: dict[str, float] | None = None


def _expressions(
    name: str, cat: str, d: ProfileSql, dialect: SqlDialect, exact_distinct: bool
) -> dict[str, str]:
    q = dialect.quote(name)
    out = {"nn": f"COUNT({q})"}
    if cat in ("numeric", "boolean"):
        x = (d.bool_as_float if cat == "boolean" and d.bool_as_float else d.as_float).format(q)
        out |= {"min": f"MIN({x})", "max": f"MAX({x})", "mean": f"AVG({x})"}
        out["std"] = f"STDDEV_SAMP({x})" if d.stddev else f"AVG({x} * {x})"
    elif cat == "temporal":
        out |= {"min": f"MIN({q})", "max": f"MAX({q})"}
    if cat in ("text", "json", "binary"):
        length = (d.byte_length if cat == "binary" else d.text_length).format(
            q if cat != "json" else d.as_text.format(q)
        )
        out |= {"lmin": f"MIN({length})", "lmax": f"MAX({length})", "lmean": f"AVG({length})"}
    target = (
        q if cat in ("numeric", "boolean", "temporal", "text", "binary") else d.as_text.format(q)
    )
    if exact_distinct:
        out["nd"] = f"COUNT(DISTINCT {target})"
    elif d.approx_distinct:
        out["nd"] = d.approx_distinct.format(target)
    return out


def aggregates(
    run: Callable[[str], list[tuple]],
    table: Table,
    dialect: SqlDialect,
    categories: dict[str, str],
    exact_distinct: bool,
) -> tuple[int, dict[str, ColumnAggregates]]:
    """Row count and per-column aggregates of ``table`` in one query (one scan)."""
    d = dialect.profile
    select = ["COUNT(*)"]
    layout: list[tuple[str, list[str]]] = []
    for name, cat in categories.items():
        exprs = _expressions(name, cat, d, dialect, exact_distinct)
        layout.append((name, list(exprs)))
        select.extend(exprs.values())
    row = run(f"SELECT {', '.join(select)} FROM {dialect.table_ref(table)}")[0]
    rows = int(row[0])
    out: dict[str, ColumnAggregates] = {}
    i = 1
    for name, keys in layout:
        values = dict(zip(keys, row[i : i + len(keys)], strict=True))
        i += len(keys)
        nn = int(values["nn"] or 0)
        agg = ColumnAggregates(rows=rows, nulls=rows - nn)
        if "nd" in values:
            agg.distinct = int(values["nd"] or 0)
            agg.distinct_method = "exact" if exact_distinct else "approximate (database)"
        agg.min, agg.max = values.get("min"), values.get("max")
        if values.get("mean") is not None:
            agg.mean = float(values["mean"])
            std = values.get("std")
            if std is not None and d.stddev is None:  # E[x²] - E[x]², sample-corrected
                var = max(0.0, float(std) - agg.mean**2) * (nn / (nn - 1) if nn > 1 else 0.0)
                agg.stddev = math.sqrt(var)
            elif std is not None:
                agg.stddev = float(std)
        if values.get("lmax") is not None:
            agg.length = {
                "min": float(values["lmin"]),
                "max": float(values["lmax"]),
                "mean": float(values["lmean"]),
            }
        out[name] = agg
    return rows, out


def hll_sql(table: Table, dialect: SqlDialect, columns: Sequence[str]) -> list[str]:
    """Queries returning (column index, register, max rank) rows for ``columns``."""
    d = dialect.profile
    if d.hll_hash is None or not columns:
        return []
    ref = dialect.table_ref(table)
    rank = f"CASE WHEN w = 0 THEN {55} ELSE {54} - {d.log2.format('w')} END"
    if d.lateral_values:
        values = ", ".join(
            f"({i}, {d.hll_hash.format(dialect.quote(c))})" for i, c in enumerate(columns)
        )
        inner = (
            f"SELECT v.i, v.h & {HLL_REGISTERS - 1} AS r, {d.hll_w.format('v.h')} AS w "
            f"FROM {ref} CROSS JOIN LATERAL (VALUES {values}) AS v(i, h) WHERE v.h IS NOT NULL"
        )
        return [f"SELECT i, r, MAX({rank}) FROM ({inner}) AS s GROUP BY i, r"]
    out = []
    for i, c in enumerate(columns):
        q = dialect.quote(c)
        inner = (
            f"SELECT h & {HLL_REGISTERS - 1} AS r, {d.hll_w.format('h')} AS w FROM "
            f"(SELECT {d.hll_hash.format(q)} AS h FROM {ref} WHERE {q} IS NOT NULL) AS hs"
        )
        out.append(f"SELECT {i}, r, MAX({rank}) FROM ({inner}) AS s GROUP BY r")
    return out


def hll_estimate(ranks: Sequence[int], registers: int = HLL_REGISTERS) -> int:
    """The HyperLogLog estimate from the registers' maximum ranks (missing ones are 0)."""
    m = registers
    filled = list(ranks) + [0] * (m - len(ranks))
    alpha = 0.7213 / (1 + 1.079 / m)
    raw = alpha * m * m / sum(2.0 ** -int(r) for r in filled)
    zeros = filled.count(0)
    if raw <= 2.5 * m and zeros:
        return round(m * math.log(m / zeros))  # linear counting for small cardinalities
    return round(raw)


def approximate_distinct(
    run: Callable[[str], list[tuple]], table: Table, dialect: SqlDialect, columns: Sequence[str]
) -> dict[str, int]:
    """HyperLogLog distinct counts of ``columns`` computed in the database."""
    queries = hll_sql(table, dialect, columns)
    if not queries:
        return {}
    ranks: dict[int, list[int]] = {i: [] for i in range(len(columns))}
    for sql in queries:
        for i, _register, rank in run(sql):
            ranks[int(i)].append(int(rank))
    return {c: hll_estimate(ranks[i]) for i, c in enumerate(columns)}
