"""What a profile is: plain dataclasses that round-trip through JSON (the store keeps them so).

Every number says where it came from: ``exact`` (the whole table, pushed down to SQL),
``approximate`` (HyperLogLog or the database's own estimate) or ``sample`` (computed on the
sampled rows, whose size the table profile reports).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from workbench import render


@dataclass
class QualityScore:
    """A score in [0, 1] with the rules that produced it, shown next to it."""

    score: float | None  # None: no applicable rule
    dimensions: dict[str, float] = field(default_factory=dict)  # completeness, validity, ...
    rules: list[str] = field(default_factory=list)

    @property
    def badge(self) -> str:
        if self.score is None:
            return "n/a"
        return "good" if self.score >= 0.95 else "fair" if self.score >= 0.8 else "poor"


@dataclass
class ColumnProfile:
    name: str
    native_type: str
    pg_type: str
    category: str  # numeric, temporal, text, boolean, binary, json, other
    rows: int
    nulls: int
    distinct: int | None = None
    distinct_method: str = "exact"  # exact | approximate (hyperloglog) | approximate (duckdb)
    min: Any = None
    max: Any = None
    mean: float | None = None
    stddev: float | None = None
    quantiles: dict[str, Any] = field(default_factory=dict)  # "p05".."p95"
    length: dict[str, float] = field(default_factory=dict)  # min, max, mean (text/binary)
    top: list[tuple[Any, int]] = field(default_factory=list)  # value, count (in the sample)
    histogram: list[tuple[Any, Any, int]] = field(default_factory=list)  # low, high, count
    histogram_of: str = ""  # "values" or "length"
    pattern: str | None = None  # the most common shape, e.g. "AAA-9999"
    pattern_share: float = 0.0
    patterns: int = 0  # distinct shapes seen in the sample
    semantic: str | None = None  # email, url, phone, uuid, ip, postal_code, ...
    semantic_share: float = 0.0  # share of non-null sampled values matching it
    pii: list[str] = field(default_factory=list)
    invalid: int = 0  # values that break the declared type (SQLite mismatches, zero dates)
    orphans: int | None = None  # foreign-key values with no parent row
    is_key: bool = False  # primary key or unique constraint
    from_sample: list[str] = field(default_factory=list)  # which fields came from the sample
    quality: QualityScore = field(default_factory=lambda: QualityScore(None))

    @property
    def null_ratio(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["null_ratio"] = self.null_ratio
        return _plain(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnProfile:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["quality"] = QualityScore(**data.get("quality", {"score": None}))
        values["top"] = [tuple(t) for t in data.get("top", [])]
        values["histogram"] = [tuple(h) for h in data.get("histogram", [])]
        return cls(**values)


@dataclass
class TableProfile:
    schema: str | None
    table: str
    dialect: str
    rows: int
    sample_rows: int  # rows the sample-based fields were computed on
    sample_size: int  # the sample size asked for
    sample_method: str  # "whole table", "tablesample bernoulli", "random key ranges", ...
    fingerprint: str
    seconds: float
    columns: list[ColumnProfile]
    quality: QualityScore = field(default_factory=lambda: QualityScore(None))
    reused: bool = False  # loaded from the store because the fingerprint was unchanged
    profiled_at: str = ""

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table

    def column(self, name: str) -> ColumnProfile:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.qualified_name} has no profiled column {name!r}")

    @property
    def pii_columns(self) -> dict[str, list[str]]:
        return {c.name: c.pii for c in self.columns if c.pii}

    def as_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "columns"}
        data["quality"] = asdict(self.quality)
        data["columns"] = [c.as_dict() for c in self.columns]
        return _plain(data)

    def _repr_html_(self) -> str:  # a notebook cell shows the columns at a glance
        return render.profiles_html([self.as_dict()])

    def __str__(self) -> str:
        return render.profiles_text([self.as_dict()])

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableProfile:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["columns"] = [ColumnProfile.from_dict(c) for c in data["columns"]]
        values["quality"] = QualityScore(**data.get("quality", {"score": None}))
        return cls(**values)


def _plain(value: Any) -> Any:
    """JSON-able: dates and decimals as text, numpy scalars as Python numbers; a NUL in text
    as U+2400 (the store's JSONB cannot hold U+0000, and a sampled value may)."""
    import datetime as dt
    import decimal

    if isinstance(value, dict):
        return {_plain(str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return value.replace("\x00", "\u2400") if "\x00" in value else value
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if value == value else None  # NaN -> null
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value)[:32].hex()
    if hasattr(value, "item"):  # numpy scalar
        return _plain(value.item())
    return str(value)
