"""Statistics computed in Python on the sampled (or whole, for small tables) column values:
quantiles, histogram, top values, shape patterns, semantic type and share, and length and
numeric summaries when the database did not give them."""

from __future__ import annotations

import datetime as dt
import decimal
import heapq
import json
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from workbench.profiling import semantic
from workbench.profiling.model import ColumnProfile

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
TOP_K = 10
BINS = 10


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float | decimal.Decimal):
        f = float(value)
        return f if math.isfinite(f) else None
    return None


def _as_epoch(value: Any) -> float | None:
    """Dates and datetimes as seconds since 1970 (UTC for naive values); text ISO dates too."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC).timestamp()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return None


def _from_epoch(seconds: float, like: Any) -> Any:
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    if isinstance(like, dt.datetime):
        return moment if like.tzinfo else moment.replace(tzinfo=None)
    if isinstance(like, dt.date):
        return moment.date()
    if isinstance(like, dt.timedelta):
        return dt.timedelta(seconds=seconds)
    return moment.isoformat()


def as_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _histogram(numbers: np.ndarray) -> list[tuple[float, float, int]]:
    if not len(numbers):
        return []
    counts, edges = np.histogram(numbers, bins=BINS)
    return [(float(edges[i]), float(edges[i + 1]), int(counts[i])) for i in range(len(counts))]


def top_values(counts: Counter[Any]) -> list[tuple[Any, int]]:
    """The ``TOP_K`` most frequent values, ties broken by the value's text, not by which came
    first: the same values in another row order (a copy's target) give the same list, so a
    list cut among ties does not read as a changed distribution."""
    best = heapq.nsmallest(TOP_K, counts.items(), key=lambda kv: (-kv[1], as_text(kv[0])))
    return [(k, int(n)) for k, n in best]


def fill_from_sample(
    profile: ColumnProfile, values: Sequence[Any], *, whole_table: bool, min_share: float
) -> None:
    """Complete ``profile`` from the column's sampled values (NULLs included)."""
    present = [v for v in values if v is not None]
    sampled: list[str] = []

    def mark(*names: str) -> None:
        if not whole_table:
            sampled.extend(names)

    counts = Counter(
        as_text(v) if profile.category in ("binary", "json", "other") else v for v in present
    )
    profile.top = top_values(counts)
    mark("top")
    if profile.distinct is None:  # no push-down: count on the sample (exact when whole)
        profile.distinct = len(counts)
        profile.distinct_method = "exact" if whole_table else "sample"
    numbers: np.ndarray | None = None
    like: Any = None
    if profile.category in ("numeric", "boolean"):
        numbers = np.array([x for x in map(_as_number, present) if x is not None], dtype=float)
    elif profile.category == "temporal":
        epochs = [(x, v) for v, x in ((v, _as_epoch(v)) for v in present) if x is not None]
        numbers = np.array([x for x, _ in epochs], dtype=float)
        like = epochs[0][1] if epochs else None
    if numbers is not None and len(numbers):
        qs = np.quantile(numbers, QUANTILES)
        conv = (lambda x: _from_epoch(x, like)) if like is not None else float
        profile.quantiles = {
            f"p{round(q * 100):02d}": conv(float(v)) for q, v in zip(QUANTILES, qs, strict=True)
        }
        profile.histogram = [(conv(lo), conv(hi), n) for lo, hi, n in _histogram(numbers)]
        profile.histogram_of = "values"
        mark("quantiles", "histogram")
        if profile.mean is None:
            profile.mean = float(numbers.mean())
            profile.stddev = float(numbers.std(ddof=1)) if len(numbers) > 1 else 0.0
            mark("mean", "stddev")
        if profile.min is None:
            profile.min, profile.max = conv(float(numbers.min())), conv(float(numbers.max()))
            mark("min", "max")
    texts = (
        [as_text(v) for v in present]
        if profile.category in ("text", "json", "other", "temporal")
        else []
    )
    if profile.category in ("text", "json", "other", "binary"):
        lengths = np.array(
            [
                len(bytes(v)) if isinstance(v, bytes | bytearray | memoryview) else len(as_text(v))
                for v in present
            ],
            dtype=float,
        )
        if len(lengths):
            if not profile.length:
                profile.length = {
                    "min": float(lengths.min()),
                    "max": float(lengths.max()),
                    "mean": float(lengths.mean()),
                }
                mark("length")
            profile.histogram = _histogram(lengths)
            profile.histogram_of = "length"
            mark("histogram")
    if texts:
        shapes = semantic.shapes(texts)
        top_shape, n = shapes.most_common(1)[0]
        profile.pattern, profile.pattern_share = top_shape, round(n / len(texts), 4)
        profile.patterns = len(shapes)
        mark("pattern")
    if profile.category in ("text", "json", "other"):
        found = semantic.detect(texts, profile.name, min_share)
        profile.semantic, profile.semantic_share = found.name, found.share
        mark("semantic")
    elif profile.category == "temporal":
        profile.semantic, profile.semantic_share = "datetime", 1.0
    profile.pii = semantic.pii_flags(profile.semantic, profile.name)
    profile.from_sample = sampled
