"""All-pairs comparisons of column profiles as array operations.

A 300 x 300 column match is 90,000 pairs: compared one pair at a time in Python, the value
signals took about 6 s of a 14 s match (benchmarks/matching_wide.py). These functions
compute the same numbers for all pairs at once: set overlaps as one sparse product,
Kolmogorov-Smirnov statistics one source column against all target columns per NumPy
call. Each gives what its one-pair definition gives (tests/matching/test_pairwise.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import sparse


def _incidence(sets: Sequence[frozenset[str]], ids: dict[str, int]) -> sparse.csr_matrix:
    """Rows = sets, columns = the members' ids (added to ``ids`` as they come)."""
    indptr: list[int] = [0]
    indices: list[int] = []
    for members in sets:
        indices.extend(ids.setdefault(m, len(ids)) for m in members)
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float64)
    return sparse.csr_matrix((data, indices, indptr), shape=(len(sets), max(len(ids), 1)))


def set_overlap(
    source: Sequence[frozenset[str]], target: Sequence[frozenset[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """Jaccard |a & b| / |a | b| and containment |a & b| / min(|a|, |b|); 0 if a set is empty."""
    ids: dict[str, int] = {}
    a = _incidence(source, ids)
    b = _incidence(target, ids)
    width = max(len(ids), 1)
    a.resize((len(source), width))
    b.resize((len(target), width))
    inter = (a @ b.T).toarray()
    size_a = np.array([len(s) for s in source], dtype=np.float64)[:, None]
    size_b = np.array([len(s) for s in target], dtype=np.float64)[None, :]
    both = (size_a > 0) & (size_b > 0)
    union = size_a + size_b - inter
    smaller = np.minimum(size_a, size_b)
    jaccard = np.divide(inter, union, out=np.zeros_like(inter), where=both)
    containment = np.divide(inter, smaller, out=np.zeros_like(inter), where=both)
    return jaccard, containment


def shared_mass(
    source: Sequence[Mapping[str, float]], target: Sequence[Mapping[str, float]]
) -> np.ndarray:
    """Sum over common keys of min(a[k], b[k]): how much of two distributions coincide."""
    ids: dict[str, int] = {}
    for shares in (*source, *target):
        for key in shares:
            ids.setdefault(key, len(ids))
    dense = np.zeros((len(target), max(len(ids), 1)))
    for j, shares in enumerate(target):
        for key, share in shares.items():
            dense[j, ids[key]] = share
    out = np.zeros((len(source), len(target)))
    for i, shares in enumerate(source):
        if shares:
            cols = np.fromiter((ids[k] for k in shares), dtype=np.int64, count=len(shares))
            mine = np.fromiter(shares.values(), dtype=np.float64, count=len(shares))
            out[i] = np.minimum(mine[None, :], dense[:, cols]).sum(axis=1)
    return out


def closeness(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """1 when equal, falling to 0 as two non-negative numbers drift apart (all pairs)."""
    a, b = x[:, None], y[None, :]
    top = np.maximum(np.abs(a), np.abs(b))
    gap = np.abs(a - b)
    return np.where(top == 0, 1.0, 1.0 - np.divide(gap, top, out=np.zeros_like(gap), where=top > 0))


def _half_ks(left: Sequence[np.ndarray], right: Sequence[np.ndarray], size: int) -> np.ndarray:
    """For each (l, r): max over the points of r of |F_l(x) - F_r(x)|.

    Samples come as ranks among all values compared (0 .. size-1), so an ECDF is a
    cumulative count over ranks and evaluating it at a sample's points is a gather.
    """
    points = np.concatenate(right)
    starts = np.cumsum([0] + [len(r) for r in right[:-1]])
    own = np.concatenate([np.cumsum(np.bincount(r, minlength=size))[r] / len(r) for r in right])
    out = np.empty((len(left), len(right)))
    for i, ranks in enumerate(left):
        below = np.cumsum(np.bincount(ranks, minlength=size))  # values <= each rank
        out[i] = np.maximum.reduceat(np.abs(below[points] / len(ranks) - own), starts)
    return out


def ks_similarity(source: Sequence[np.ndarray], target: Sequence[np.ndarray]) -> np.ndarray:
    """1 - the two-sample Kolmogorov-Smirnov statistic of every pair of samples; 0 where
    either is empty. The statistic is the largest ECDF gap at the points of either sample,
    so it is the larger of two halves, each one pass over the other side's points."""
    out = np.zeros((len(source), len(target)))
    rows = [i for i, a in enumerate(source) if len(a)]
    cols = [j for j, b in enumerate(target) if len(b)]
    if not rows or not cols:
        return out
    samples = [source[i] for i in rows] + [target[j] for j in cols]
    values, ranks = np.unique(np.concatenate(samples), return_inverse=True)
    split = np.split(ranks.ravel(), np.cumsum([len(s) for s in samples])[:-1])
    left, right = split[: len(rows)], split[len(rows) :]
    gap = np.maximum(_half_ks(left, right, len(values)), _half_ks(right, left, len(values)).T)
    out[np.ix_(rows, cols)] = 1.0 - gap
    return out


def frequency_similarity(
    source: Sequence[np.ndarray], target: Sequence[np.ndarray], top: int
) -> np.ndarray:
    """1 - the total variation distance between lists of value shares (largest first),
    times how alike their numbers of distinct values are; 0 where either list is empty."""

    def padded(lists: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        out = np.zeros((len(lists), top))
        for k, shares in enumerate(lists):
            out[k, : len(shares)] = shares[:top]
        return out, np.array([min(len(s), top) for s in lists], dtype=np.float64)

    a, len_a = padded(source)
    b, len_b = padded(target)
    tv = 0.5 * np.abs(a[:, None, :] - b[None, :, :]).sum(axis=2)
    larger = np.maximum(len_a[:, None], len_b[None, :])
    smaller = np.minimum(len_a[:, None], len_b[None, :])
    ratio = np.divide(smaller, larger, out=np.zeros_like(larger), where=larger > 0)
    return np.where(smaller > 0, (1.0 - tv) * ratio, 0.0)
