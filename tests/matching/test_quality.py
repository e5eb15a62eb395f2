"""A floor on quality: a couple of Valentine-style pairs fabricated from Chinook tables."""

from __future__ import annotations

import pytest

import workbench.matching as matching
from workbench.matching import fabricate, samples


@pytest.fixture(scope="module")
def chinook(datasets) -> dict[str, samples.SampleTable]:
    return {f"chinook.{k}": v for k, v in samples.load_chinook(datasets / "chinook.sqlite").items()}


CASES = [
    ("chinook.Customer", "joinable", "noisy"),
    ("chinook.Invoice", "unionable", "opaque"),
    ("chinook.Employee", "semantically-joinable", "noisy"),
]


def test_f1_on_fabricated_pairs_is_above_a_floor(chinook) -> None:
    tp = fp = fn = 0
    for table, kind, noise in CASES:
        pair = fabricate.fabricate(chinook[table], kind, noise, seed=7)
        found = matching.match_frames(
            pair.source,
            pair.target,
            source_table=pair.source_table,
            target_table=pair.target_table,
            source_types=pair.source_types,
            target_types=pair.target_types,
        )
        got = {(s.source_column, s.target_column) for s in found}
        tp += len(got & pair.ground_truth)
        fp += len(got - pair.ground_truth)
        fn += len(pair.ground_truth - got)
    f1 = 2 * tp / (2 * tp + fp + fn)
    # rapidfuzz on raw names reaches about 0.7 on such pairs; a matcher that lost its
    # value signals or its normalization drops well below this floor
    assert f1 >= 0.85, (tp, fp, fn)


def test_fabricated_pairs_have_the_promised_shape(chinook) -> None:
    table = chinook["chinook.Customer"]
    union = fabricate.fabricate(table, "unionable", "verbatim", seed=1)
    assert len(union.ground_truth) == len(table.frame.columns)
    join = fabricate.fabricate(table, "joinable", "opaque", seed=1)
    assert 0 < len(join.ground_truth) < len(table.frame.columns)
    assert set(join.target.columns) != set(join.source.columns)


def test_value_noise_includes_codes_labels_and_units() -> None:
    """Another system's forms of the same values: a category as codes or labels, one for
    one, and quantities in another unit (the hard cases of semantically-joinable pairs)."""
    import random

    import numpy as np
    import pandas as pd

    status = pd.Series(["active", "closed", "suspended", "pending"] * 30)
    ranks = pd.Series([0, 1, 2] * 40)
    weight = pd.Series(np.linspace(40.0, 120.0, 120))
    seen: set[str] = set()
    for seed in range(40):
        rng = random.Random(seed)
        for series, declared in ((status, "varchar(20)"), (ranks, "integer")):
            noisy = fabricate._noisy_values(series, declared, rng)
            values = set(noisy)
            numbered = all(isinstance(v, int) for v in values) and not noisy.equals(series)
            if values <= set(fabricate._LABELS):
                kind = "labels"
            elif numbered or values == {str(v)[:3].upper() for v in series}:
                kind = "codes"
            else:
                continue  # another noise: case, typos
            pairs = set(zip(series, noisy, strict=True))
            assert len(pairs) == series.nunique() == noisy.nunique(), pairs  # one for one
            seen.add(kind)
        noisy = fabricate._noisy_values(weight, "numeric(6,2)", rng)
        if pd.api.types.is_numeric_dtype(noisy) and not np.allclose(noisy, weight.round(1)):
            factor = float((noisy / weight).median())
            assert min(abs(factor - u) / u for u in fabricate._UNITS) < 0.01, factor
            assert np.allclose(noisy, (weight * factor).round(2), atol=0.01)
            seen.add("unit")
    assert seen == {"labels", "codes", "unit"}


def test_decoys_are_named_like_a_source_column_and_hold_another_kind() -> None:
    """A decoy (address -> address_id, last_name -> last_update) has no partner: its values
    are of another kind than the column it is named after, and a taken name is not reused."""
    import random

    import numpy as np
    import pandas as pd

    source = pd.DataFrame(
        {
            "last_name": ["Smith", "Jones"] * 10,
            "joined": pd.date_range("2020-01-01", periods=20),
            "score": range(20),
        }
    )
    kinds = {"last_name": "text", "joined": "datetime", "score": "integer"}
    seen = 0
    for seed in range(60):
        rng, nprng = random.Random(seed), np.random.default_rng(seed)
        decoy = fabricate._decoy(source, set(source.columns), 20, rng, nprng)
        if decoy is None:
            continue
        name, values, _ = decoy
        column = next(c for c in source.columns if name.startswith(c.split("_")[0]))
        assert len(values) == 20 and name not in source.columns
        if pd.api.types.is_datetime64_any_dtype(values):
            kind = "datetime"
        elif pd.api.types.is_integer_dtype(values):
            kind = "integer"
        else:
            kind = "text"
        assert kind != kinds[column], (name, kind)
        seen += 1
    assert seen >= 40
    taken = {"last_name", "last_name_id", "last_name_no", "last_name_count", "last_id"}
    assert all(
        (d := fabricate._decoy(source[["last_name"]], taken, 5, random.Random(s),
                               np.random.default_rng(s))) is None or d[0] not in taken
        for s in range(30)
    )  # fmt: skip


def test_sibling_decoys_are_named_as_a_series_member_and_hold_the_columns_kind() -> None:
    """A sibling decoy (emp -> emp_2, score3 -> score4, sales_jan -> sales_mar) holds values
    drawn from the column it is named after, so only the name tells it apart; it has no
    partner, and a taken name is not reused."""
    import random

    import numpy as np
    import pandas as pd

    source = pd.DataFrame({"emp": range(40), "score3": [1.5, 2.5] * 20, "sales_jan": [7] * 40})
    declared = {"emp": "integer", "score3": "double precision", "sales_jan": "integer"}
    names = set()
    for seed in range(40):
        rng, nprng = random.Random(seed), np.random.default_rng(seed)
        decoy = fabricate._sibling_decoy(source, set(source.columns), 30, declared, rng, nprng)
        assert decoy is not None
        name, values, kind = decoy
        column = next(c for c in source.columns if name.startswith(c.split("_")[0][:5]))
        assert name not in source.columns and len(values) == 30
        assert kind == declared[column] and set(values) <= set(source[column])
        names.add(name)
    assert {"emp2", "emp_2", "score4", "score2"} <= names
    assert any(n.startswith("sales_") and n != "sales_jan" for n in names)
    taken = {"emp", "emp2", "emp_2"}
    assert all(
        fabricate._sibling_decoy(source[["emp"]], taken, 5, declared, random.Random(s),
                                 np.random.default_rng(s)) is None
        for s in range(20)
    )  # fmt: skip


def test_drifted_small_integer_columns_do_not_overflow() -> None:
    """Stata files load 0-100 as int8; drifting them to other ids must widen, not overflow."""
    import random

    import pandas as pd

    for dtype in ("int8", "Int16", "uint8"):
        series = pd.Series([1, 2, 100] * 30, dtype=dtype)
        drifted = fabricate._drifted(series, random.Random(3))
        shift = drifted.iloc[0] - 1
        assert shift >= len(series) and (drifted - series.astype("int64") == shift).all()
