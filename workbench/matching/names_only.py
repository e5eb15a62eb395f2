"""Scoring when one side has no rows (an empty, pre-created target table): names and types.

The model weighs values heavily, and was trained on tables that hold some; an empty table
gives value signals that look like a total mismatch. With no values on a side, a pair's
confidence comes from its name signals (the mean of the normalized-name similarities,
lowered by a contrast such as ``first`` vs ``last``) scaled by type compatibility. Reasons
then name only those signals.
"""

from __future__ import annotations

import numpy as np

from workbench.matching import candidates

FEATURE_INDEX = {f: i for i, f in enumerate(candidates.FEATURES)}
THRESHOLD = 0.7  # names alone must agree clearly
NAME_SIGNALS = ("name_ratio", "name_token_set", "name_tokens", "name_jaro_winkler")


def has_values(table: candidates.PreparedTable) -> bool:
    return any(p.sample_count > 0 for p in table.profiles)


def name_type_scores(features: np.ndarray) -> np.ndarray:
    """Confidence per pair from name and type features alone, shape (n_source, n_target)."""
    names = np.mean([features[..., FEATURE_INDEX[f]] for f in NAME_SIGNALS], axis=0)
    contrast = features[..., FEATURE_INDEX["name_contrast"]]
    compat = features[..., FEATURE_INDEX["type_compat"]]
    return np.clip(names * (1.0 - 0.5 * contrast) * (0.5 + 0.5 * compat), 0.0, 1.0)


def reasons(row: np.ndarray) -> dict[str, float]:
    out = {f: round(float(row[FEATURE_INDEX[f]]), 3) for f in NAME_SIGNALS}
    out["type_compat"] = round(float(row[FEATURE_INDEX["type_compat"]]), 3)
    out["no_values"] = 1.0
    return out
