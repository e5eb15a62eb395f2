"""Before/after: profile a table in the source and its copy in the target, and report drift
per column (row counts, null ratios, distinct counts, lengths, distribution distance), so a
bad cast, a silent truncation or a NULLed column shows up as a red row.

Distribution distance, in [0, 1]:
- numbers and dates: the largest shift of the 5/25/50/75/95 % quantiles, over the source range;
- categorical text (at most ``CATEGORICAL`` distinct values): total variation distance of the
  value frequencies;
- other text: the relative change of the mean length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.connectors.base import Connector
from workbench.profiling import stats
from workbench.profiling.model import ColumnProfile, TableProfile
from workbench.profiling.profile import ProfileOptions, profile_table
from workbench.schema.model import Table

CATEGORICAL = 100
NULL_TOLERANCE = 0.005  # null ratio may rise this much before it is flagged
DISTANCE_AMBER = 0.1


@dataclass(frozen=True)
class DriftPair:
    """A source table, its copy in the target, and source column -> target column."""

    source: Table
    target: Table
    columns: dict[str, str]


@dataclass
class ColumnDrift:
    table: str
    column: str
    target_column: str
    source_rows: int
    target_rows: int
    source_null_ratio: float
    target_null_ratio: float
    source_distinct: int | None
    target_distinct: int | None
    source_max_length: float | None
    target_max_length: float | None
    distance: float
    flags: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        red = {"rows differ", "nulled", "truncated", "distinct drop", "missing in target"}
        if red & set(self.flags):
            return "red"
        return "amber" if self.flags else "green"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status}


@dataclass
class DriftReport:
    source: list[TableProfile]
    target: list[TableProfile]
    columns: list[ColumnDrift]

    @property
    def red(self) -> list[ColumnDrift]:
        return [c for c in self.columns if c.status == "red"]

    def column(self, table: str, column: str) -> ColumnDrift:
        for c in self.columns:
            if c.table == table and c.column == column:
                return c
        raise KeyError(f"no drift row for {table}.{column}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "columns": [c.as_dict() for c in self.columns],
            "red": len(self.red),
            "tables": [
                {"table": s.qualified_name, "source_rows": s.rows, "target_rows": t.rows}
                for s, t in zip(self.source, self.target, strict=True)
            ],
        }


def _numbers(values: dict[str, Any]) -> list[float]:
    out = []
    for key in sorted(values):
        v = values[key]
        x = stats._as_number(v)
        out.append(x if x is not None else stats._as_epoch(v))
    return [x for x in out if x is not None]


def distance(source: ColumnProfile, target: ColumnProfile) -> float:
    """How far apart the two value distributions are, in [0, 1] (see the module docstring)."""
    if source.category in ("numeric", "temporal", "boolean") and source.quantiles:
        qs, qt = _numbers(source.quantiles), _numbers(target.quantiles)
        if not qt:
            return 1.0 if qs else 0.0
        lo, hi = (min(qs), max(qs)) if qs else (0.0, 0.0)
        span = (hi - lo) or max(abs(hi), 1.0)
        return min(1.0, max(abs(a - b) for a, b in zip(qs, qt, strict=False)) / span)
    if source.distinct is not None and source.distinct <= CATEGORICAL and source.top:

        def shares(p: ColumnProfile) -> dict[str, float]:
            total = sum(n for _, n in p.top) or 1
            return {stats.as_text(v): n / total for v, n in p.top}

        a, b = shares(source), shares(target)
        return round(0.5 * sum(abs(a.get(k, 0) - b.get(k, 0)) for k in a.keys() | b.keys()), 4)
    ls, lt = (source.length or {}).get("mean"), (target.length or {}).get("mean")
    if ls is None:
        return 0.0
    if lt is None:
        return 1.0
    return round(min(1.0, abs(ls - lt) / max(ls, 1.0)), 4)


def compare_columns(table: str, s: ColumnProfile, t: ColumnProfile | None) -> ColumnDrift:
    if t is None:
        return ColumnDrift(
            table, s.name, "", s.rows, 0, s.null_ratio, 1.0, s.distinct, None,
            (s.length or {}).get("max"), None, 1.0, ["missing in target"],
        )  # fmt: skip
    flags: list[str] = []
    if s.rows != t.rows:
        flags.append("rows differ")
    if t.null_ratio > s.null_ratio + NULL_TOLERANCE:
        flags.append("nulled")
    smax, tmax = (s.length or {}).get("max"), (t.length or {}).get("max")
    smean, tmean = (s.length or {}).get("mean"), (t.length or {}).get("mean")
    shorter = smax is not None and tmax is not None and tmax < smax
    if s.category == "text" and (shorter or (smean and tmean is not None and tmean < 0.95 * smean)):
        flags.append("truncated")
    if s.distinct and t.distinct is not None:
        exact = s.distinct_method == t.distinct_method == "exact"
        if t.distinct < (1.0 if exact else 0.85) * s.distinct:
            flags.append("distinct drop")
    dist = distance(s, t)
    if dist > DISTANCE_AMBER:
        flags.append("distribution shift")
    return ColumnDrift(
        table=table,
        column=s.name,
        target_column=t.name,
        source_rows=s.rows,
        target_rows=t.rows,
        source_null_ratio=round(s.null_ratio, 6),
        target_null_ratio=round(t.null_ratio, 6),
        source_distinct=s.distinct,
        target_distinct=t.distinct,
        source_max_length=smax,
        target_max_length=tmax,
        distance=round(dist, 4),
        flags=flags,
    )


def compare_profiles(
    source: TableProfile, target: TableProfile, columns: dict[str, str]
) -> list[ColumnDrift]:
    by_name = {c.name: c for c in target.columns}
    return [
        compare_columns(source.qualified_name, s, by_name.get(columns.get(s.name, s.name)))
        for s in source.columns
        if s.name in columns or not columns
    ]


def drift_report(
    source: Connector,
    target: Connector,
    pairs: Sequence[DriftPair],
    options: ProfileOptions | None = None,
) -> DriftReport:
    """Profile each pair on both sides (same options, same seed) and compare them."""
    options = options or ProfileOptions()
    sources, targets, rows = [], [], []
    for pair in pairs:
        sp = profile_table(source, pair.source, options)
        tp = profile_table(target, pair.target, options)
        sources.append(sp)
        targets.append(tp)
        rows.extend(compare_profiles(sp, tp, pair.columns))
    return DriftReport(sources, targets, rows)
