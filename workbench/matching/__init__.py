"""Suggest which source column goes to which target column, and learn from the answers.

The parts, in the order a match runs through them:

- ``names``: normalize column names (case, separators, abbreviations, synonyms, table
  prefixes) and compare them with rapidfuzz.
- ``instances``: profile each column's values (semantic types, shape patterns,
  distributions, value sets) and compare profiles, so opaque names still match.
- ``types``: compatibility of declared types (or pandas dtypes).
- ``candidates``: one feature vector per (source, target) pair from the three above.
- ``model``: a logistic regression turning features into a confidence; the default is
  shipped as ``default_model.json`` and trained by ``scripts/train_matcher.py``.
- ``assign``: one-to-one assignment (Hungarian) above a threshold.
- ``names_only``: names and types alone when a side has no rows (an empty target table).
- ``feedback``: accept / reject / correct events and ``retrain`` from them.
- ``fabricate`` and ``samples``: Valentine-style pairs built from real tables, for
  training and the benchmark.

Everything here works on pandas DataFrames; the store-backed parts call these functions:

- ``reading``: a connection's tables and a sample of rows of each;
- ``learning``: the organization's model, retrained from its stored feedback (cached);
- ``mappings``: suggest between two connections, save as schema/column mappings, list, get;
- ``decisions``: accept, reject, override, transforms (feedback + audit + version);
- ``checks``: problems of saved mappings before a run (types, required columns,
  duplicate targets, a dry run of the transforms on sample rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from workbench.errors import InvalidInputError
from workbench.matching import assign as _assign
from workbench.matching import candidates, names, names_only
from workbench.matching.model import MatcherModel, default_model

__all__ = [
    "MatcherModel",
    "Suggestion",
    "TableMatch",
    "default_model",
    "match_frames",
    "match_tables",
    "score_frames",
]

TABLE_THRESHOLD = 0.3


@dataclass(frozen=True)
class Suggestion:
    """One suggested column pair; ``reasons`` are each signal's share of the logit."""

    source_column: str
    target_column: str
    confidence: float
    reasons: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TableMatch:
    """A suggested table pair and the column suggestions within it."""

    source_table: str
    target_table: str
    confidence: float
    columns: list[Suggestion]


def _model(model: MatcherModel | None) -> MatcherModel:
    chosen = model or default_model()
    chosen.check_features(candidates.FEATURES)
    return chosen


def _prepare(
    df: pd.DataFrame,
    table: str | None,
    declared: Mapping[str, str] | None,
    model: MatcherModel,
    sample_size: int,
) -> candidates.PreparedTable:
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(f"Expected a pandas DataFrame, got {type(df).__name__}")
    return candidates.prepare_table(df, table, declared, model.synonyms or None, sample_size)


def _scores(
    source: candidates.PreparedTable, target: candidates.PreparedTable, model: MatcherModel
) -> tuple[np.ndarray, np.ndarray]:
    features = candidates.pair_features(source, target)
    return features, model.predict(features)


def _suggestions(
    source: candidates.PreparedTable,
    target: candidates.PreparedTable,
    features: np.ndarray,
    scores: np.ndarray,
    model: MatcherModel,
    pairs: list[tuple[int, int]],
) -> list[Suggestion]:
    if not pairs:
        return []
    rows, cols = np.array(pairs).T
    reasons = model.contributions_many(features[rows, cols])
    return [
        Suggestion(
            source_column=source.columns[i],
            target_column=target.columns[j],
            confidence=round(float(scores[i, j]), 4),
            reasons=why,
        )
        for (i, j), why in zip(pairs, reasons, strict=True)
    ]


def _match_prepared(
    source: candidates.PreparedTable,
    target: candidates.PreparedTable,
    model: MatcherModel,
    threshold: float,
) -> list[Suggestion]:
    if not (names_only.has_values(source) and names_only.has_values(target)):
        # an empty side (e.g. a pre-created target table): names and types decide
        features = candidates.pair_features(source, target)
        scores = names_only.name_type_scores(features)
        return [
            Suggestion(
                source.columns[i],
                target.columns[j],
                round(float(scores[i, j]), 4),
                names_only.reasons(features[i, j]),
            )
            for i, j in sorted(_assign.assign(scores, names_only.THRESHOLD))
        ]
    features, scores = _scores(source, target, model)
    pairs = sorted(_assign.assign(scores, threshold))
    return _suggestions(source, target, features, scores, model, pairs)


def match_frames(
    source_df: pd.DataFrame,
    target_df: pd.DataFrame,
    *,
    source_table: str | None = None,
    target_table: str | None = None,
    source_types: Mapping[str, str] | None = None,
    target_types: Mapping[str, str] | None = None,
    threshold: float | None = None,
    model: MatcherModel | None = None,
    sample_size: int = 1000,
) -> list[Suggestion]:
    """One-to-one column suggestions from ``source_df`` to ``target_df``.

    Optional schema information sharpens the signals: table names (to strip prefixes
    such as ``cust_``) and declared types per column in any dialect's spelling. Only
    pairs at or above ``threshold`` (default: the model's own) are returned, in source
    column order; a column without a counterpart is left out.
    """
    chosen = _model(model)
    source = _prepare(source_df, source_table, source_types, chosen, sample_size)
    target = _prepare(target_df, target_table, target_types, chosen, sample_size)
    cutoff = chosen.threshold if threshold is None else threshold
    return _match_prepared(source, target, chosen, cutoff)


def score_frames(
    source_df: pd.DataFrame,
    target_df: pd.DataFrame,
    *,
    source_table: str | None = None,
    target_table: str | None = None,
    source_types: Mapping[str, str] | None = None,
    target_types: Mapping[str, str] | None = None,
    model: MatcherModel | None = None,
    sample_size: int = 1000,
) -> list[Suggestion]:
    """Every (source, target) pair with its confidence, best first (no assignment)."""
    chosen = _model(model)
    source = _prepare(source_df, source_table, source_types, chosen, sample_size)
    target = _prepare(target_df, target_table, target_types, chosen, sample_size)
    features, scores = _scores(source, target, chosen)
    ranked = np.dstack(np.unravel_index(np.argsort(-scores, axis=None), scores.shape))[0]
    pairs = [(int(i), int(j)) for i, j in ranked]
    return _suggestions(source, target, features, scores, chosen, pairs)


def _table_name_similarity(a: str, b: str) -> float:
    x, y = (" ".join(names.expand(names.split_name(n))) for n in (a, b))
    singular = [s[:-1] if s.endswith("s") else s for s in (x, y)]
    return max(fuzz.ratio(x, y), fuzz.ratio(*singular)) / 100.0


def match_tables(
    source_tables: Mapping[str, pd.DataFrame],
    target_tables: Mapping[str, pd.DataFrame],
    *,
    source_types: Mapping[str, Mapping[str, str]] | None = None,
    target_types: Mapping[str, Mapping[str, str]] | None = None,
    threshold: float | None = None,
    table_threshold: float = TABLE_THRESHOLD,
    model: MatcherModel | None = None,
    sample_size: int = 1000,
) -> list[TableMatch]:
    """Which source table goes to which target table, then columns within each pair.

    A table pair scores by its name similarity and by how much of the two tables its
    column suggestions cover; tables are assigned one-to-one like columns, and a table
    without a counterpart (below ``table_threshold``) stays unmatched.
    """
    chosen = _model(model)
    cutoff = chosen.threshold if threshold is None else threshold
    s_types, t_types = source_types or {}, target_types or {}
    sources = {
        n: _prepare(df, n, s_types.get(n), chosen, sample_size) for n, df in source_tables.items()
    }
    targets = {
        n: _prepare(df, n, t_types.get(n), chosen, sample_size) for n, df in target_tables.items()
    }
    s_names, t_names = list(sources), list(targets)
    table_scores = np.zeros((len(s_names), len(t_names)))
    columns: dict[tuple[int, int], list[Suggestion]] = {}
    for i, s in enumerate(s_names):
        for j, t in enumerate(t_names):
            found = _match_prepared(sources[s], targets[t], chosen, cutoff)
            size = np.sqrt(len(sources[s].columns) * len(targets[t].columns)) or 1.0
            coverage = sum(x.confidence for x in found) / size
            table_scores[i, j] = 0.4 * _table_name_similarity(s, t) + 0.6 * coverage
            columns[i, j] = found
    return [
        TableMatch(s_names[i], t_names[j], round(float(table_scores[i, j]), 4), columns[i, j])
        for i, j in sorted(_assign.assign(table_scores, table_threshold))
    ]


def suggestion_to_dict(suggestion: Suggestion) -> dict[str, Any]:
    """A plain dict for JSON output and the store."""
    return {
        "source_column": suggestion.source_column,
        "target_column": suggestion.target_column,
        "confidence": suggestion.confidence,
        "reasons": dict(suggestion.reasons),
    }
