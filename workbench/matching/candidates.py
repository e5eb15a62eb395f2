"""Candidate pairs and their signal features.

A table is prepared once (:func:`prepare_table`: normalized names, value profiles, type
families); then every (source column, target column) pair of two prepared tables gets
one feature vector (:func:`pair_features`), the input of the model. Margins say how much
a pair stands out from its row and column rivals, which is what lets a column with no
counterpart stay unmatched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.errors import InvalidInputError
from workbench.matching import instances, names, rows, types

FEATURES: tuple[str, ...] = (
    *names.NAME_FEATURES,
    "name_opaque",
    "name_margin",
    "name_regime",
    "type_compat",
    *instances.VALUE_FEATURES,
    "value_margin",
    "value_support",
    "value_richness",
    *rows.ROW_FEATURES,
    "row_margin",
)

# The model may only raise a confidence with these (+1) or only lower it (-1).
MONOTONIC: dict[str, int] = {
    **dict.fromkeys(names.NAME_FEATURES, 1),
    **dict.fromkeys(instances.VALUE_FEATURES, 1),
    "name_contrast": -1,
    "semantic_conflict": -1,
    "name_margin": 1,
    "name_regime": 0,
    "type_compat": 1,
    "value_margin": 1,
    "value_nulls": 0,
    "value_distinct": 0,
    "value_richness": 0,
    "row_equal": 1,
    "row_rank": 1,
    "row_linear": 1,
    "row_bijection": 1,
    "row_mismatch": -1,
    "row_margin": 1,
}


@dataclass
class PreparedTable:
    """One side of a match: what the signals need, computed once."""

    name: str | None
    columns: list[str]
    names: list[names.NormalizedName]
    profiles: list[instances.ValueProfile]
    families: list[str]
    records: rows.RowSample | None = None  # sampled rows, for records both tables hold


def prepare_table(
    df: pd.DataFrame,
    table: str | None = None,
    declared_types: Mapping[str, str] | None = None,
    synonyms: dict[str, str] | None = None,
    sample_size: int = instances.SAMPLE_SIZE,
) -> PreparedTable:
    """Normalize names, profile values and classify types of one table's columns."""
    columns = [str(c) for c in df.columns]  # names as text: 3 (read_csv(header=None)) is "3"
    repeated = sorted(c for c, times in Counter(columns).items() if times > 1)
    if repeated:
        raise InvalidInputError(
            f"{'Table ' + table if table else 'The frame'} has more than one column named "
            f"{', '.join(map(repr, repeated))}; give each column its own name before matching"
        )
    declared = declared_types or {}
    frame = df.copy(deep=False)
    frame.columns = columns
    families = [
        types.family(declared[c]) if c in declared else types.dtype_family(frame[c])
        for c in columns
    ]
    return PreparedTable(
        name=table,
        columns=columns,
        names=names.normalize_columns(columns, table, synonyms),
        profiles=instances.profile_frame(frame, sample_size),
        families=families,
        records=rows.row_sample(frame),
    )


def _rival(scores: np.ndarray) -> np.ndarray:
    """For each cell, the best other score in its row (-1 if the row has no other)."""
    n_s, n_t = scores.shape
    if n_t < 2:
        return np.full(scores.shape, -1.0)
    order = np.argsort(-scores, axis=1)
    best = scores[np.arange(n_s), order[:, 0]]
    second = scores[np.arange(n_s), order[:, 1]]
    rival = np.repeat(best[:, None], n_t, axis=1)
    rival[np.arange(n_s), order[:, 0]] = second
    return rival


def margin(scores: np.ndarray) -> np.ndarray:
    """How far each pair is above the best rival in its row and its column, in [-1, 1]."""
    if scores.size == 0:
        return np.zeros_like(scores)
    rivals = np.maximum(_rival(scores), _rival(scores.T).T)
    return np.clip(scores - rivals, -1.0, 1.0)


NAMED_PARTNER = 0.9  # a name score this high: the same name, written another way
REGIME_COUNT = 3  # this many other columns named alike: the two schemas share their names


def name_regime(name_score: np.ndarray) -> np.ndarray:
    """How much the *other* columns' names agree: per pair, the number of other source
    columns (not its row) with a near-identical name in another target column (not its
    column), as a share of ``REGIME_COUNT``. Where two schemas name their shared columns
    alike, a pair whose own names differ is suspect however alike its values look (two 0/1
    columns, ``married`` and ``female``); where names say nothing, values must decide."""
    shape = name_score.shape
    if not name_score.size:
        return np.zeros(shape)
    named = name_score >= NAMED_PARTNER
    per_row = named.sum(axis=1)
    per_column = named.sum(axis=0)
    total = int(named.sum())
    # named pairs outside the cell's row and column (the cell itself counted back in once)
    elsewhere = total - per_row[:, None] - per_column[None, :] + named
    return np.minimum(elsewhere / REGIME_COUNT, 1.0)


def same_placeholder(a: names.NormalizedName, b: names.NormalizedName) -> bool:
    return a.is_opaque and b.is_opaque and a.tokens == b.tokens


def pair_features(source: PreparedTable, target: PreparedTable) -> np.ndarray:
    """Features of all pairs: an array of shape (n_source, n_target, len(FEATURES))."""
    shape = (len(source.columns), len(target.columns))
    feats: dict[str, np.ndarray] = {}
    name_sims = names.name_similarities(source.names, target.names)
    # a placeholder says nothing, unless both sides hold the same one (``var2`` and ``VAR_2``:
    # one convention of numbering, as a survey's or a model's inputs are numbered)
    opaque = np.array(
        [
            [
                float((a.is_opaque or b.is_opaque) and not same_placeholder(a, b))
                for b in target.names
            ]
            for a in source.names
        ],
        dtype=np.float32,
    ).reshape(shape)
    for key, matrix in name_sims.items():
        feats[key] = matrix * (1.0 - opaque)  # placeholder names say nothing
    feats["name_opaque"] = opaque
    name_score = (
        name_sims["name_ratio"] + name_sims["name_token_set"] + name_sims["name_tokens"]
    ) / 3
    named = name_score * (1.0 - opaque)
    # standing out counts as much as the name itself is alike: "married" is the closest name
    # to "female" when no other name is close at all, which says nothing
    name_margin = margin(named)
    feats["name_margin"] = np.where(name_margin > 0, name_margin * named, name_margin)
    feats["name_regime"] = name_regime(named)
    # few distinct families: compare those, then spread to the columns
    fam_a, at_a = np.unique(np.array(source.families, dtype=str), return_inverse=True)
    fam_b, at_b = np.unique(np.array(target.families, dtype=str), return_inverse=True)
    compat = np.array(
        [[types.compatibility(str(a), str(b)) for b in fam_b] for a in fam_a], dtype=np.float32
    ).reshape(len(fam_a), len(fam_b))
    feats["type_compat"] = compat[np.ix_(at_a.ravel(), at_b.ravel())].reshape(shape)
    feats.update(instances.value_similarities(source.profiles, target.profiles))
    value_score = (
        feats["value_overlap"]
        + feats["value_qgrams"]
        + feats["value_patterns"]
        + feats["value_lengths"]
        + feats["value_numbers"]
        + feats["semantic_equal"]
        - feats["semantic_conflict"]
    ) / 6
    feats["value_margin"] = margin(value_score)
    # how far value signals can be trusted: 1 from ~1000 sampled values, 0.33 from 9
    counts = [p.sample_count for p in source.profiles], [p.sample_count for p in target.profiles]
    feats["value_support"] = (
        np.log10(1 + np.minimum.outer(np.array(counts[0]), np.array(counts[1]))) / 3.0
    )
    # how much agreeing values can say: two 0/1 columns agree whatever they mean, two columns
    # of a thousand distinct values rarely do by chance
    distinct = [len(p.values) for p in source.profiles], [len(p.values) for p in target.profiles]
    feats["value_richness"] = (
        np.log10(1 + np.minimum.outer(np.array(distinct[0]), np.array(distinct[1]))) / 3.0
    )
    feats.update(rows.row_similarities(source.records, target.records, shape))
    agreement = np.maximum(
        np.maximum(feats["row_equal"], feats["row_rank"]), feats["row_bijection"]
    )
    feats["row_margin"] = np.clip(margin(agreement), 0.0, 1.0)
    return np.stack([feats[name] for name in FEATURES], axis=-1).astype(np.float64)
