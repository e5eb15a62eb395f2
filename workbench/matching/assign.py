"""One-to-one assignment with a threshold.

The Hungarian method (``scipy.optimize.linear_sum_assignment``) picks the set of pairs
with the highest total confidence in which each column appears at most once. Pairs
below the threshold are removed *before* solving, so they neither get returned nor push
a better pair aside: a column without a real counterpart stays unmatched.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def assign(scores: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Row/column index pairs of the best one-to-one assignment at or above ``threshold``."""
    if scores.size == 0:
        return []
    usable = np.where(scores >= threshold, scores, 0.0)
    rows, cols = linear_sum_assignment(usable, maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if scores[r, c] >= threshold]
