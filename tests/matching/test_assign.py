"""One-to-one assignment with a threshold."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.matching.assign import assign

CASES = [
    # (scores, threshold, expected pairs)
    ([[0.9, 0.1], [0.2, 0.8]], 0.5, [(0, 0), (1, 1)]),
    # the greedy best (0, 0) would leave row 1 with nothing: Hungarian swaps
    ([[0.9, 0.8], [0.85, 0.1]], 0.5, [(0, 1), (1, 0)]),
    # a row whose best is below the threshold stays unmatched
    ([[0.9, 0.1], [0.3, 0.2]], 0.5, [(0, 0)]),
    # more source columns than target columns
    ([[0.9], [0.95], [0.2]], 0.5, [(1, 0)]),
    # nothing above the threshold
    ([[0.1, 0.2], [0.3, 0.4]], 0.5, []),
    # a pair below the threshold does not push a stronger one aside: counting 0.45
    # would make (0, 1) + (1, 0) the best total and leave only (1, 0)
    ([[0.9, 0.45], [0.8, 0.0]], 0.5, [(0, 0)]),
]


@pytest.mark.parametrize(
    ("scores", "threshold", "expected"), CASES, ids=[str(i) for i in range(len(CASES))]
)
def test_assign(
    scores: list[list[float]], threshold: float, expected: list[tuple[int, int]]
) -> None:
    assert sorted(assign(np.array(scores), threshold)) == expected


def test_empty() -> None:
    assert assign(np.zeros((0, 3)), 0.5) == []
