"""Columns one side has and the other has not stay unmatched, even where their values look
alike: two 0/1 columns (``married``, ``female``) agree by chance, and beside columns that
kept their names a pair whose names differ is no pair (found on Wooldridge's data sets, a
family the matcher is never trained on: benchmarks/matching_families.py, SEALED)."""

from __future__ import annotations

import numpy as np
import pandas as pd

import workbench.matching as matching


def test_unshared_yes_no_columns_are_not_paired_by_their_values() -> None:
    rng = np.random.default_rng(5)
    n = 600
    people = pd.DataFrame(
        {
            "id": np.arange(n),
            "age": rng.integers(18, 70, n),
            "wage": rng.gamma(3, 7, n).round(2),
            "educ": rng.integers(8, 20, n),
            "married": rng.integers(0, 2, n),
            "female": rng.integers(0, 2, n),
            "union": rng.integers(0, 2, n),
            "south": rng.integers(0, 2, n),
        }
    )
    source = people[["id", "age", "wage", "educ", "married", "union"]].iloc[:400]
    target = people[["id", "age", "wage", "educ", "female", "south"]].iloc[200:]
    found = {
        (s.source_column, s.target_column)
        for s in matching.match_frames(source, target, source_table="survey", target_table="survey")
    }
    assert found == {("id", "id"), ("age", "age"), ("wage", "wage"), ("educ", "educ")}
