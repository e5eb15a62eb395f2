"""Features that describe a pair's context rather than the pair: how much the two schemas'
other names agree (``name_regime``) and how much agreeing values can say (``value_richness``);
and when placeholder names still say something."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.matching import assign, candidates, model


def test_name_regime_counts_named_pairs_outside_the_cells_row_and_column() -> None:
    scores = np.zeros((5, 5))
    scores[[0, 1, 2, 3], [0, 1, 2, 3]] = 1.0  # four columns kept their names; the fifth did not
    regime = candidates.name_regime(scores)
    assert regime[0, 0] == 1.0  # three others named alike: capped at REGIME_COUNT
    assert regime[4, 4] == 1.0  # married vs female beside four kept names: names are telling
    assert np.isclose(regime[0, 1], 2 / 3)  # its row's and its column's named pairs not counted
    few = np.zeros((4, 4))
    few[0, 0] = 0.95
    assert candidates.name_regime(few)[3, 3] == 1 / 3
    assert candidates.name_regime(few)[0, 0] == 0.0  # none but itself
    assert candidates.name_regime(np.zeros((0, 3))).shape == (0, 3)


def test_value_richness_is_low_for_columns_few_values_make_alike() -> None:
    n = 400
    rng = np.random.default_rng(0)
    a = pd.DataFrame({"married": rng.integers(0, 2, n), "person_id": np.arange(n)})
    b = pd.DataFrame({"female": rng.integers(0, 2, n), "id": np.arange(n) + 7})
    features = candidates.pair_features(candidates.prepare_table(a), candidates.prepare_table(b))
    richness = features[..., candidates.FEATURES.index("value_richness")]
    assert richness[0, 0] < 0.2  # two 0/1 columns: 2 distinct values
    assert richness[1, 1] > 0.8  # hundreds of distinct ids
    assert richness[0, 1] == richness[0, 0]  # the poorer side decides


def test_the_same_placeholder_on_both_sides_is_a_name() -> None:
    """``var1``..``var3`` on both sides are one convention of numbering: ``var2`` is
    ``VAR_2``; against ``field2`` (a position) the names say nothing."""
    rng = np.random.default_rng(0)
    source = pd.DataFrame({f"var{k}": rng.normal(size=200) for k in (1, 2, 3)})
    target = pd.DataFrame({f"VAR_{k}": rng.normal(size=200) for k in (3, 1, 2)})
    target["field2"] = rng.normal(size=200)
    s, t = candidates.prepare_table(source), candidates.prepare_table(target)
    feats = candidates.pair_features(s, t)
    ratio = feats[..., candidates.FEATURES.index("name_ratio")]
    opaque = feats[..., candidates.FEATURES.index("name_opaque")]
    assert ratio[1].tolist() == [0.0, 0.0, 1.0, 0.0]  # var2: VAR_2 only
    assert opaque[1].tolist() == [1.0, 1.0, 0.0, 1.0]
    chosen = assign.assign(model.default_model().predict(feats), model.default_model().threshold)
    assert {(s.columns[i], t.columns[j]) for i, j in chosen} == {
        ("var1", "VAR_1"), ("var2", "VAR_2"), ("var3", "VAR_3"),
    }  # fmt: skip
