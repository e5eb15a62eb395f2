"""Quality scores per column and per table, each with the rules that produced it.

A column is scored on up to four dimensions, each in [0, 1]:

==============  ======  ====================================================================
dimension       weight  rule
==============  ======  ====================================================================
completeness    0.35    non-null values / rows (a NOT NULL column is complete by definition)
validity        0.30    values matching the column's semantic type (its share), minus values
                        breaking the declared type (SQLite storage-class mismatches, MySQL
                        zero dates)
uniqueness      0.15    distinct / non-null, only for keys and would-be keys (declared
                        primary/unique keys, ``*_id``/``*code`` columns that are almost unique)
consistency     0.20    1 - foreign-key orphans / non-null, times the share of the most common
                        shape when a column mixes formats of one semantic type
==============  ======  ====================================================================

Dimensions that do not apply are left out and the weights of the others re-normalised.
A table's score is the mean of its columns' scores.
"""

from __future__ import annotations

from workbench.profiling import semantic
from workbench.profiling.model import ColumnProfile, QualityScore, TableProfile

WEIGHTS: dict[str, float] = {
    "completeness": 0.35,
    "validity": 0.30,
    "uniqueness": 0.15,
    "consistency": 0.20,
}
# semantic types whose values have one canonical spelling: more than one shape is a mix
_FORMATTED = {"phone", "iso_datetime", "date", "time", "postal_code", "credit_card", "iban", "uuid"}


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def score_column(col: ColumnProfile, nullable: bool = True) -> QualityScore:
    dims: dict[str, float] = {}
    rules: list[str] = []
    non_null = col.rows - col.nulls
    if col.rows:
        dims["completeness"] = non_null / col.rows
        rules.append(
            f"completeness {_pct(dims['completeness'])}: {non_null:,} of {col.rows:,} rows "
            "non-null" + ("" if nullable else " (NOT NULL)")
        )
    if non_null:
        validity = 1.0
        parts = []
        # a descriptive type (title, category, ...) says what a column is, not which
        # values are valid
        if col.semantic and col.semantic not in (*semantic.DESCRIPTIVE, "datetime"):
            validity = col.semantic_share
            parts.append(f"{_pct(col.semantic_share)} of sampled values are {col.semantic}")
        if col.invalid:
            validity = max(0.0, validity - col.invalid / non_null)
            parts.append(f"{col.invalid:,} values break the declared type")
        if parts:
            dims["validity"] = validity
            rules.append(f"validity {_pct(validity)}: " + "; ".join(parts))
        would_be_key = (
            not col.is_key
            and col.distinct is not None
            and col.distinct >= 0.95 * non_null
            and col.name.lower().endswith(("id", "code", "key", "number", "no"))
        )
        if (col.is_key or would_be_key) and col.distinct is not None:
            dims["uniqueness"] = min(1.0, col.distinct / non_null)
            what = "key" if col.is_key else "would-be key"
            approx = "" if col.distinct_method == "exact" else f" ({col.distinct_method})"
            rules.append(
                f"uniqueness {_pct(dims['uniqueness'])}: {what} with {col.distinct:,} "
                f"distinct of {non_null:,}{approx}"
            )
        consistency, parts = 1.0, []
        if col.orphans is not None:
            consistency *= 1.0 - min(1.0, col.orphans / non_null)
            parts.append(f"{col.orphans:,} foreign-key orphans")
        if col.semantic in _FORMATTED and col.patterns > 1:
            consistency *= col.pattern_share
            parts.append(
                f"{col.patterns} formats; the most common ({col.pattern}) covers "
                f"{_pct(col.pattern_share)}"
            )
        if parts:
            dims["consistency"] = consistency
            rules.append(f"consistency {_pct(consistency)}: " + "; ".join(parts))
    if not dims:
        return QualityScore(None, {}, ["no rule applies (empty table)"])
    total = sum(WEIGHTS[k] for k in dims)
    score = sum(WEIGHTS[k] * v for k, v in dims.items()) / total
    weights = ", ".join(f"{k} {WEIGHTS[k]:.2f}" for k in dims)
    rules.append(f"score = weighted mean ({weights}; re-normalised over these)")
    return QualityScore(round(score, 4), {k: round(v, 4) for k, v in dims.items()}, rules)


def score_table(profile: TableProfile) -> QualityScore:
    scored = [(c, c.quality.score) for c in profile.columns if c.quality.score is not None]
    if not scored:
        return QualityScore(None, {}, ["no column could be scored"])
    mean = sum(score for _, score in scored) / len(scored)
    worst, lowest = min(scored, key=lambda pair: pair[1])
    dims = {}
    for dim in WEIGHTS:
        vals = [c.quality.dimensions[dim] for c, _ in scored if dim in c.quality.dimensions]
        if vals:
            dims[dim] = round(sum(vals) / len(vals), 4)
    rules = [
        f"mean of {len(scored)} column scores",
        f"lowest: {worst.name} {lowest:.2f}",
    ]
    return QualityScore(round(mean, 4), dims, rules)
