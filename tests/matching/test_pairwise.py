"""The all-pairs (vectorized) signals equal their one-pair definitions, on real tables."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from workbench.matching import candidates, default_model, instances, names, pairwise
from workbench.matching.samples import load_all


@pytest.fixture(scope="module")
def prepared(datasets):
    tables = load_all(datasets)

    def prep(name: str) -> candidates.PreparedTable:
        t = tables[name]
        return candidates.prepare_table(t.frame, t.name, t.declared)

    # people, addresses, money, dates, titles: every kind of value on both sides
    return [
        (prep("chinook.Customer"), prep("sakila.customer")),
        (prep("chinook.Invoice"), prep("sakila.payment")),
        (prep("chinook.Track"), prep("sakila.film")),
        (prep("chinook.Employee"), prep("sakila.address")),
    ]


def test_value_matrices_equal_the_one_pair_definitions(prepared) -> None:
    for source, target in prepared:
        matrices = instances.value_similarities(source.profiles, target.profiles)
        for i, a in enumerate(source.profiles):
            for j, b in enumerate(target.profiles):
                one = instances.pair_similarities(a, b)
                for feature, value in one.items():
                    got, why = matrices[feature][i, j], (a.name, b.name, feature)
                    if feature == "value_qgrams":  # a matrix product: float32 sums in BLAS order
                        assert got == pytest.approx(value, abs=1e-6), why
                    else:
                        assert got == np.float32(value), why


def test_ks_matrix_handles_ties_empty_samples_and_disjoint_ranges() -> None:
    samples = [
        np.sort(np.array([1.0, 1.0, 2.0, 5.0])),
        np.array([]),
        np.sort(np.array([100.0, 101.0])),
        np.sort(np.array([2.0, 1.0, 1.0, 3.0, 5.0, 5.0])),
    ]
    matrix = pairwise.ks_similarity(samples, samples)
    for i, a in enumerate(samples):
        for j, b in enumerate(samples):
            expected = instances._ks_similarity(a, b) if len(a) and len(b) else 0.0
            assert matrix[i, j] == expected, (i, j)
    assert matrix[0, 2] == 0.0  # no value in common range: the largest gap, 1


def test_name_tokens_and_contrasts_equal_the_one_pair_definitions(prepared) -> None:
    for source, target in prepared:
        sims = names.name_similarities(source.names, target.names)
        for i, a in enumerate(source.names):
            for j, b in enumerate(target.names):
                both = a.tokens and b.tokens
                jaccard = len(a.tokens & b.tokens) / len(a.tokens | b.tokens) if both else 0.0
                assert sims["name_tokens"][i, j] == np.float32(jaccard)
                contrast = bool(both) and names._contrast(a, b)
                assert sims["name_contrast"][i, j] == float(contrast), (a.raw, b.raw)


def _walk_until_leaves(tree, x: np.ndarray) -> np.ndarray:
    """The plain walk: every row steps until it sits on a leaf."""
    node = np.zeros(len(x), dtype=np.int64)
    rows = np.arange(len(x))
    while not tree.is_leaf[node].all():
        inner = ~tree.is_leaf[node]
        step = np.where(
            x[rows, tree.feature[node]] <= tree.threshold[node], tree.left[node], tree.right[node]
        )
        node = np.where(inner, step, node)
    return node


def test_model_walk_and_explanations_equal_the_plain_walk(prepared) -> None:
    model = default_model()
    source, target = prepared[0]
    rows = candidates.pair_features(source, target).reshape(-1, len(model.features))
    total = np.full(len(rows), model.base_logit)
    for tree in model.trees:
        leaves = _walk_until_leaves(tree, rows)
        assert np.array_equal(tree.leaves(rows), leaves)
        total += tree.value[leaves] - tree.value[0]
    assert np.array_equal(model.tree_logits(rows), total)
    picked = rows[:: max(1, len(rows) // 40)]
    many = model.contributions_many(picked)
    for row, reasons in zip(picked, many, strict=True):
        parts = np.zeros(len(model.features))
        for tree in model.trees:
            tree.path_contributions(row, parts)
        expected = {f: round(float(v), 3) for f, v in zip(model.features, parts, strict=True)}
        assert reasons == {f: v for f, v in expected.items() if abs(v) >= 0.001}


@pytest.mark.parametrize(
    "values",
    [
        np.array([3, 1, 3, 2, 1, 3] * 5, dtype=np.int64),
        np.array([0.0, -0.0, 1.5, 1.5, 2.25, 1e-7, 123456789.125] * 4),
        np.array([1.5, 1.5, 0.1, -0.0, 2.0] * 6, dtype=np.float32),
        np.array([1.0000001, 1.0000002, 7.0, 7.0] * 10),  # one canonical spelling, two numbers
    ],
)
def test_a_numeric_profile_spells_each_distinct_number_once_with_the_same_result(values) -> None:
    """_numeric_profile tallies distinct numbers; the per-value definitions must agree."""
    series = pd.Series(values, name="x")
    got = instances.profile_column(series)
    texts = series.astype(str).tolist()
    canonical = [instances._canonical_number(x) for x in values.astype(float)]
    lengths = np.array([len(t) for t in texts], dtype=float)
    shapes = Counter(instances._shape(t) for t in texts)
    counted = pd.Series(canonical).value_counts()
    assert got.values == frozenset(canonical)
    assert got.distinct_ratio == len(set(canonical)) / len(values)
    assert (got.length_mean, got.length_std) == (float(lengths.mean()), float(lengths.std()))
    assert got.patterns == {p: c / len(values) for p, c in shapes.most_common(30)}
    expected = (counted.to_numpy(float) / counted.sum())[: instances.FREQUENCY_TOP]
    if len(counted) <= len(values) // 4:
        assert np.array_equal(got.frequencies, expected)
    assert np.array_equal(got.qgrams, instances._qgrams([t.casefold() for t in texts[:300]]))
