"""Row evidence: when two tables hold some of the same records, their rows line up.

Two tables of the same entities (a source and the target it is migrated to, two
publishers of one data set, the two sides of a join) often share records. If one column
on each side is a key (its values nearly unique) and the two keys share many values, the
rows holding the same key value are taken to be the same record, but only when a second
column pair confirms it (at least half of those rows agree on it with several distinct
values): two unrelated surrogate keys (``CustomerId`` 1..59 and ``customer_id`` 1..599)
share values too, and nothing else agrees on the rows they pair.

Over the aligned rows, a column pair gets these agreements:

- ``row_equal``: the share of rows whose normalized values are equal (the same data in
  any format that normalization sees through: case, punctuation, date and number
  spelling), beyond the share that would be equal by chance (Cohen's kappa: two unrelated
  0/1 columns agree on half their rows);
- ``row_rank``: the rank correlation of the values read as numbers or dates (the same
  quantity in another unit or scale: cm vs inches, dollars vs cents, dates vs compact
  date texts);
- ``row_linear``: Pearson's correlation of the same numbers: 1 for another unit or scale,
  less for a log, a square or a lagged copy, which rank alike;
- ``row_bijection``: Goodman and Kruskal's lambda, the weaker direction, for two columns
  of repeating values (codes and their labels: one determines the other, beyond what
  chance gives).

``row_mismatch`` is 1 - the best of the three where rows are aligned, so columns of
look-alike values that disagree record by record are told apart; all are 0 where no rows
align (tables without shared records say nothing here). ``row_margin`` (computed in
:mod:`candidates`) is how far the best of the three stands above the pair's rivals in its
row and column (0 if it does not). Each can also agree by accident
(ids given in date order rank like the dates; two attributes of one customer repeated on
each of its invoices determine each other): the model weighs them with the other signals.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from workbench.matching import instances

ROW_SAMPLE = 2000  # rows of each table kept for alignment
MAX_ALIGNED = 400  # aligned rows compared (a fixed-seed subset beyond that)
MIN_ALIGNED = 8
KEY_DISTINCT = 0.95  # distinct / non-null for a key column
KEY_PROBE = 5000  # rows read to find a table's key-like columns
KEY_COORDINATED = 3  # key-like columns whose smallest hashes choose rows
COORDINATED_ROWS = 200_000  # rows hashed to choose them (a random subset beyond that)
CONFIRM_SHARE = 0.5
CONFIRM_DISTINCT = 5

ROW_FEATURES: tuple[str, ...] = (
    "row_equal", "row_rank", "row_linear", "row_bijection", "row_mismatch",
)  # fmt: skip

_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
_CURRENCY = re.compile(r"^[$€£¥]\s?|\s?[$€£¥]$")
_DATE_SHAPE = re.compile(
    r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    r"[a-z]*\.?\s+\d|\d\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)",
    re.IGNORECASE,
)


@dataclass
class RowSample:
    """A table's sampled rows: each column's normalized values and values as numbers."""

    keys: list[np.ndarray]  # per column: object array of normalized strings (None = null)
    numbers: np.ndarray  # (rows, columns) float, NaN where not a number or date


def _fold(text: str) -> str:
    """Case and punctuation away; a value of mostly digits (a phone) to its digits."""
    folded = _NON_ALNUM.sub("", text.casefold())
    digits = "".join(c for c in folded if c.isdigit())
    return digits if len(digits) >= 7 and len(digits) >= 0.6 * len(folded) else folded


def _dates(texts: pd.Series) -> pd.Series:
    shaped = sum(1 for t in texts.iloc[:50] if _DATE_SHAPE.search(t))
    if shaped < 0.9 * min(len(texts), 50) or texts.str.len().median() < 6:
        return pd.Series(pd.NaT, index=texts.index)
    with warnings.catch_warnings():  # pandas warns of what it drops from odd texts
        warnings.simplefilter("ignore")
        return instances.to_dates(texts)


def _spelled(values: np.ndarray) -> list[str | None]:
    """Each number as ``f"{v:.12g}"`` (None for NaN), each distinct value spelled once."""
    out: list[str | None] = [None] * len(values)
    ok = ~np.isnan(values)
    if not ok.any():
        return out
    present = values[ok]
    whole = np.all(np.mod(present, 1) == 0) and np.all(np.abs(present) < 1e12)
    if whole and not np.any(np.signbit(present) & (present == 0)):  # -0.0 is spelled "-0"
        words = present.astype(np.int64).astype(str).tolist()  # what .12g spells them
    else:
        distinct, inverse = np.unique(present, return_inverse=True)
        spelled = [f"{v:.12g}" for v in distinct]
        words = [spelled[k] for k in inverse.ravel()]
    for at, word in zip(np.flatnonzero(ok), words, strict=True):
        out[at] = word
    return out


def _texts(series: pd.Series) -> tuple[list[str | None], np.ndarray]:
    """(normalized strings, numbers) of one column's values."""
    n = len(series)
    nums = np.full(n, np.nan)
    if pd.api.types.is_bool_dtype(series):
        return [None if pd.isna(v) else str(int(v)) for v in series], nums
    if pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(float)
        return _spelled(values), values
    if pd.api.types.is_datetime64_any_dtype(series):
        series = instances.naive_utc(series)
        iso = series.dt.strftime("%Y-%m-%d")
        days = (series - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
        return [None if pd.isna(v) else v for v in iso], days.to_numpy(float)
    given = series.notna().to_numpy()
    present = series[given].astype(str).str.strip()
    if len(present) == 0:
        return [None] * n, nums
    if instances.may_be_numbers(present.tolist()):
        cleaned = present.str.replace(_CURRENCY, "", regex=True).str.replace(",", "")
        as_number = pd.to_numeric(cleaned, errors="coerce")
        if as_number.notna().mean() >= 0.95:
            nums[given] = as_number.to_numpy(float)
            return _spelled(nums), nums
    if _dates(present.iloc[:50]).notna().mean() >= 0.9:
        dates = _dates(present)
        if dates.notna().mean() >= 0.95:
            full = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
            full[present.index] = dates
            iso = full.dt.strftime("%Y-%m-%d")
            nums = ((full - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)).to_numpy(float)
            return [None if pd.isna(v) else v for v in iso], nums
    folded = {t: _fold(t) for t in dict.fromkeys(present)}
    keys: list[str | None] = [None] * n
    for at, value in zip(np.flatnonzero(given), present, strict=True):
        keys[at] = folded[value]
    return keys, nums


def coordinated_rows(frame: pd.DataFrame, size: int, seed: int = 0) -> np.ndarray:
    """Positions of ``size`` rows of a larger table: for each of its first key-like columns
    (values nearly unique), a share of the rows whose keys hash smallest; random rows for
    the rest.

    Two tables of the same records then keep the same records, whatever their order or
    size: independent random samples of 2,000 rows of two tables of the same million
    records hold 4 of them in common on average, too few to align."""
    rng = np.random.default_rng(seed)
    probe = frame.iloc[rng.choice(len(frame), min(len(frame), KEY_PROBE), replace=False)]
    keys = [
        k
        for k in range(frame.shape[1])
        if (present := probe.iloc[:, k].dropna()).size >= MIN_ALIGNED
        and present.astype(str).nunique() >= KEY_DISTINCT * present.size  # lists too
    ][:KEY_COORDINATED]
    chosen = np.empty(0, dtype=np.int64)
    considered = (
        np.sort(rng.choice(len(frame), COORDINATED_ROWS, replace=False))
        if len(frame) > COORDINATED_ROWS
        else np.arange(len(frame))
    )
    for k in keys:
        hashes = _key_hashes(frame.iloc[considered, k])
        smallest = considered[np.argsort(hashes, kind="stable")[: size // len(keys)]]
        chosen = np.union1d(chosen, smallest)
    if len(chosen) < size:  # the rest at random (the rows not taken yet)
        rest = np.setdiff1d(np.arange(len(frame)), chosen, assume_unique=True)
        chosen = np.union1d(chosen, rng.choice(rest, size - len(chosen), replace=False))
    return chosen[:size]


def _key_hashes(column: pd.Series) -> np.ndarray:
    """A hash of each value as alignment compares it: numbers (also written as text) by
    value, text without case and punctuation; missing values last."""
    present = column.notna().to_numpy()
    keys: pd.Series
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        keys = column.astype(float)
    else:
        texts = column.astype(str).str.strip()
        numbers = pd.to_numeric(texts.str.replace(",", ""), errors="coerce")
        if numbers[present].notna().mean() >= 0.95:
            keys = numbers.astype(float)
        else:
            keys = texts.str.casefold().str.replace(_NON_ALNUM, "", regex=True)
    hashes = pd.util.hash_pandas_object(keys, index=False).to_numpy()
    hashes[~present] = np.iinfo(np.uint64).max
    return hashes


def row_sample(frame: pd.DataFrame, size: int = ROW_SAMPLE, seed: int = 0) -> RowSample:
    """The rows (at most ``size``, see :func:`coordinated_rows`) that alignment may use."""
    if len(frame) > size:
        frame = frame.iloc[coordinated_rows(frame, size, seed)]
    keys, numbers = [], np.full((len(frame), frame.shape[1]), np.nan)
    for k in range(frame.shape[1]):
        texts, nums = _texts(frame.iloc[:, k])
        keys.append(np.array(texts, dtype=object))
        numbers[:, k] = nums
    return RowSample(keys, numbers)


def _key_columns(sample: RowSample) -> list[tuple[int, dict[object, int]]]:
    out = []
    for k, keys in enumerate(sample.keys):
        present = [(v, r) for r, v in enumerate(keys) if v is not None and v != ""]
        if len(present) < MIN_ALIGNED:
            continue
        first: dict[object, int] = {}
        for v, r in present:
            first.setdefault(v, r)
        if len(first) >= KEY_DISTINCT * len(present):
            out.append((k, first))
    return out


def _codes(source: RowSample, target: RowSample, rows_s: np.ndarray, rows_t: np.ndarray):
    """The aligned rows' values as integer codes in one space (-1 = null)."""
    ids: dict[object, int] = {}

    def encode(keys: Sequence[np.ndarray], rows: np.ndarray) -> np.ndarray:
        out = np.full((len(rows), len(keys)), -1, dtype=np.int64)
        for k, column in enumerate(keys):
            for r, v in enumerate(column[rows]):
                if v is not None and v != "":
                    out[r, k] = ids.setdefault(v, len(ids))
        return out

    return encode(source.keys, rows_s), encode(target.keys, rows_t)


def _equality(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    both = (a[:, :, None] >= 0) & (b[:, None, :] >= 0)
    same = (a[:, :, None] == b[:, None, :]) & both
    n = both.sum(axis=0)
    return np.divide(same.sum(axis=0), n, out=np.zeros(n.shape), where=n >= MIN_ALIGNED)


def _chance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How often each column pair's values would agree on rows paired at random: the sum
    over values of their shares on each side (one half for two 0/1 columns, near 0 for ids)."""

    def shares(m: np.ndarray, width: int) -> sparse.csr_matrix:
        rows, cols = np.nonzero(m >= 0)
        counts = sparse.csr_matrix(
            (np.ones(len(rows)), (cols, m[rows, cols])), shape=(m.shape[1], width)
        )
        totals = np.asarray(counts.sum(axis=1)).ravel()
        return sparse.diags(1.0 / np.maximum(totals, 1.0)) @ counts

    width = int(max(a.max(initial=-1), b.max(initial=-1))) + 1
    if width == 0:
        return np.zeros((a.shape[1], b.shape[1]))
    return np.asarray((shares(a, width) @ shares(b, width).T).todense())


def _agreement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equality beyond chance (Cohen's kappa, >= 0): two unrelated 0/1 columns agree on half
    their rows, which says nothing; two columns of many values rarely agree by chance."""
    observed, chance = _equality(a, b), _chance(a, b)
    kappa = np.divide(observed - chance, 1.0 - chance, out=np.zeros_like(observed),
                      where=chance < 0.999)  # fmt: skip
    return np.clip(kappa, 0.0, 1.0)


def _correlation(x: np.ndarray, y: np.ndarray, ranked: bool = True) -> np.ndarray:
    """Spearman's rho of every column of x with every column of y (NaN-aware, >= 0); with
    ``ranked=False`` Pearson's r of the values themselves."""

    def standardized(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = np.zeros_like(m)
        usable = np.zeros(m.shape[1], dtype=bool)
        for k in range(m.shape[1]):
            ok = ~np.isnan(m[:, k])
            if ok.sum() >= MIN_ALIGNED and len(np.unique(m[ok, k])) >= 3:
                r = pd.Series(m[ok, k]).rank().to_numpy() if ranked else m[ok, k]
                r = (r - r.mean()) / (r.std() or 1.0)
                out[ok, k] = r
                usable[k] = True
        return out, usable

    with np.errstate(over="ignore", invalid="ignore"):
        rx, ux = standardized(x)
        ry, uy = standardized(y)
    n = (~np.isnan(x)).astype(float).T @ (~np.isnan(y)).astype(float)
    rho = np.divide(rx.T @ ry, n, out=np.zeros(n.shape), where=n >= MIN_ALIGNED)
    rho = np.nan_to_num(rho)
    rho[~ux, :] = 0.0
    rho[:, ~uy] = 0.0
    return np.clip(rho, 0.0, 1.0)


def _lambda(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Goodman and Kruskal's lambda (the weaker direction) for columns of repeating values."""
    out = np.zeros((a.shape[1], b.shape[1]))

    def categorical(m: np.ndarray) -> list[int]:
        keep = []
        for k in range(m.shape[1]):
            present = m[m[:, k] >= 0, k]
            if len(present) >= MIN_ALIGNED and 2 <= len(np.unique(present)) <= len(present) / 2:
                keep.append(k)
        return keep

    for i in categorical(a):
        for j in categorical(b):
            ok = (a[:, i] >= 0) & (b[:, j] >= 0)
            if ok.sum() < MIN_ALIGNED:
                continue
            _, x = np.unique(a[ok, i], return_inverse=True)
            _, y = np.unique(b[ok, j], return_inverse=True)
            table = np.zeros((int(x.max()) + 1, int(y.max()) + 1))
            np.add.at(table, (x.ravel(), y.ravel()), 1.0)
            m = table.sum()
            col_best, row_best = table.max(axis=0).sum(), table.max(axis=1).sum()
            top_col, top_row = table.sum(axis=0).max(), table.sum(axis=1).max()
            t_given_s = (row_best - top_col) / (m - top_col) if m > top_col else 0.0
            s_given_t = (col_best - top_row) / (m - top_row) if m > top_row else 0.0
            out[i, j] = max(0.0, min(t_given_s, s_given_t))
    return out


def align(source: RowSample, target: RowSample) -> tuple[np.ndarray, np.ndarray] | None:
    """Row indices (source, target) of the records both hold, or None."""
    keys_s, keys_t = _key_columns(source), _key_columns(target)
    best: tuple[int, int, int, list[object]] | None = None
    for i, first_s in keys_s:
        for j, first_t in keys_t:
            inter = first_s.keys() & first_t.keys()
            if len(inter) >= MIN_ALIGNED and (best is None or len(inter) > best[2]):
                best = (i, j, len(inter), list(inter))
    if best is None:
        return None
    i, j, _, common = best
    first_s = dict(keys_s)[i]
    first_t = dict(keys_t)[j]
    common.sort(key=str)
    if len(common) > MAX_ALIGNED:
        pick = np.random.default_rng(0).choice(len(common), MAX_ALIGNED, replace=False)
        common = [common[k] for k in sorted(pick)]
    rows_s = np.array([first_s[v] for v in common])
    rows_t = np.array([first_t[v] for v in common])
    # confirmed by a second column pair that agrees on these rows
    a, b = _codes(source, target, rows_s, rows_t)
    equal = _equality(a, b)
    equal[i, j] = 0.0
    for s, t in zip(*np.nonzero(equal >= CONFIRM_SHARE), strict=True):
        values = a[:, s][(a[:, s] >= 0) & (a[:, s] == b[:, t])]
        if len(np.unique(values)) >= CONFIRM_DISTINCT:
            return rows_s, rows_t
    return None


def row_similarities(source: RowSample | None, target: RowSample | None, shape) -> dict:
    """:data:`ROW_FEATURES`, (n_source, n_target) each (0 where no rows align)."""
    out = {name: np.zeros(shape) for name in ROW_FEATURES}
    if source is None or target is None or 0 in shape:
        return out
    aligned = align(source, target)
    if aligned is None:
        return out
    rows_s, rows_t = aligned
    a, b = _codes(source, target, rows_s, rows_t)
    out["row_equal"] = _agreement(a, b)
    x, y = source.numbers[rows_s], target.numbers[rows_t]
    out["row_rank"] = _correlation(x, y)
    # the same quantity in another unit is linear in it; a log, a square or last period's
    # value ranks alike but is not (``lpcinc`` beside ``pcinc``)
    out["row_linear"] = _correlation(x, y, ranked=False)
    out["row_bijection"] = _lambda(a, b)
    match = np.maximum(np.maximum(out["row_equal"], out["row_rank"]), out["row_bijection"])
    evidence = (a >= 0).T.astype(float) @ (b >= 0).astype(float) >= MIN_ALIGNED
    out["row_mismatch"] = np.where(evidence, 1.0 - match, 0.0)
    return out
