"""Value signals: what a column's values look like, so opaque names (``col_7``) still match.

Each column is profiled once from a sample (:func:`profile_column`): the inferred kind,
a semantic type found by patterns (email, phone, url, uuid, date-in-text, ...), shape
patterns (``Aaaa-9999`` style), length and numeric distributions, and a normalized value
set. :func:`value_similarities` compares two lists of profiles all-pairs at once.

Values are normalized before they are compared (case folded, punctuation dropped, dates
to ISO, numbers to a canonical spelling), so a format change between two databases
("(617) 223-5589" and "6172235589", "15/02/2006" and "2006-02-15") does not hide overlap.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.matching import pairwise
from workbench.profiling import semantic as semantic_types

SAMPLE_SIZE = 1000
QGRAM_DIM = 2048

# semantic types come from profiling's one detector; both date spellings it tells apart
# are one type here (they are normalized to ISO before values are compared), and long
# text and the descriptive types (address, place, code, category, title; scored in
# benchmarks/semantic_bench.py) fall through to the shape classes below: the matcher's
# features stay what they were before those types, and what its model was trained on
_AS_DATETIME = {"iso_datetime", "date"}
_SKIPPED = semantic_types.DESCRIPTIVE - {"free_text"} | {"code"}  # not worth detecting here
_SHAPE_CLASS = {None, "free_text"} | _SKIPPED
_HINTED = {d.name for d in semantic_types.DETECTORS if d.needs_name_hint is not None}
_CODE_SHARE = 0.8  # share of values written like codes ("NC-17") for the code class
_NUMBER = re.compile(r"^[-+]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?([eE][-+]?\d+)?$")
_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
_WORD = re.compile(r"\S+")
_CODE_TEXT = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")
_NOT_IN_NUMBERS = re.compile(r"[^\d.,eE+\-$€£¥\s]")  # what _NUMBER and currency signs never hold


@dataclass
class ValueProfile:
    """What the matcher knows about one column's values."""

    name: str
    sample_count: int  # non-null values sampled
    kind: str  # integer, decimal, boolean, datetime, text, binary, empty
    # profiling's semantic type (dates as "datetime"), else a kind or shape class:
    # integer/decimal/word/words/text/code/empty
    semantic: str
    null_fraction: float
    distinct_ratio: float  # distinct / non-null, on the sample
    length_mean: float
    length_std: float
    patterns: dict[str, float]  # shape pattern -> share of the sample
    numbers: np.ndarray  # sorted numeric sample (empty if the column is not numeric)
    values: frozenset[str]  # normalized distinct values of the sample
    qgrams: np.ndarray = field(repr=False)  # L2-normalized hashed character 3-grams
    # the numbers standardized (mean 0, sd 1), sorted: the distribution's shape whatever the
    # unit (cm vs inches, dollars vs cents, raw vs standardized)
    standardized: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    # the shares of the most frequent values, largest first, when values repeat (a code or
    # a category): codes and their labels ("A" vs "active", 0 vs "setosa") share this profile
    frequencies: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)


def _sample(series: pd.Series, size: int, seed: int) -> pd.Series:
    values = series.dropna()
    if len(values) > size:
        values = values.sample(size, random_state=seed)
    return values


# the shape classes of ASCII characters, for str.translate (the loop below for the rest)
_ASCII_SHAPE = str.maketrans({
    chr(c): "a" if chr(c).isalpha() else "9" if chr(c).isdigit() else " " if chr(c).isspace()
    else chr(c)
    for c in range(128)
})  # fmt: skip
_RUN = re.compile(r"(.)\1{4,}", re.S)


def _shape(text: str) -> str:
    """``"AB-1234"`` -> ``"aa-9999"``: letters a, digits 9, runs longer than 4 shortened."""
    head = text[:40]
    if head.isascii():
        mapped = head.translate(_ASCII_SHAPE)
    else:
        mapped = "".join(
            "a" if ch.isalpha() else "9" if ch.isdigit() else " " if ch.isspace() else ch
            for ch in head
        )
    return _RUN.sub(lambda m: m.group(1) * 4 + "+", mapped)


def _shape_counts(texts: Sequence[str]) -> Counter[str]:
    """How often each shape occurs; each distinct value is shaped once."""
    out: Counter[str] = Counter()
    for text, count in Counter(texts).items():
        out[_shape(text)] += count
    return out


def to_dates(texts: pd.Series) -> pd.Series:
    """Date and time texts as naive UTC datetimes (NaT where a text is none). Offsets ("Z",
    "+01:00") are applied and texts without one taken as UTC, so a column mixing them (or
    mixing offsets) parses instead of leaving objects that have no ``.dt``."""
    return naive_utc(pd.to_datetime(texts, errors="coerce", format="mixed", utc=True))


def naive_utc(dates: pd.Series) -> pd.Series:
    """Timezone-aware datetimes as naive UTC ones: day numbers subtract a naive epoch."""
    if isinstance(dates.dtype, pd.DatetimeTZDtype):
        return dates.dt.tz_convert("UTC").dt.tz_localize(None)
    return dates


def may_be_numbers(texts: Sequence[str]) -> bool:
    """False as soon as over 5% of the values hold a character no number written as text
    has: :func:`_to_numbers` would then find too few numbers (a shortcut, same answer)."""
    limit, seen = 0.05 * len(texts), 0
    for text in texts:
        if _NOT_IN_NUMBERS.search(text):
            seen += 1
            if seen > limit:
                return False
    return True


def _to_numbers(texts: pd.Series) -> np.ndarray | None:
    """Numbers written as text ("1,234.50", "$12", "3.5e2"), or None if most are not."""
    cleaned = texts.str.replace(r"^[$€£¥]\s?|\s?[$€£¥]$", "", regex=True)
    ok = cleaned.str.match(_NUMBER)
    if len(texts) == 0 or ok.mean() < 0.95:
        return None
    return pd.to_numeric(cleaned[ok].str.replace(",", ""), errors="coerce").dropna().to_numpy(float)


def _canonical_number(x: float) -> str:
    return f"{x:.6g}"


def _semantic(texts: pd.Series, column_name: str) -> str | None:
    found = semantic_types.detect(list(texts), column_name, all_shares=False, skip=_SKIPPED).name
    if found in _AS_DATETIME:
        return "datetime"
    return None if found in _SHAPE_CLASS else found


def _text_semantic(texts: Sequence[str]) -> str:
    """text, words, code or word, from the means over the values (each distinct one read
    once, counted as often as it occurs)."""
    counted = Counter(texts)
    n = counted.total()
    words = sum(len(_WORD.findall(t)) * c for t, c in counted.items()) / n
    if sum(len(t) * c for t, c in counted.items()) / n > 60 or words > 5:
        return "text"
    if words > 1.3:
        return "words"
    codes = sum(c for t, c in counted.items() if _CODE_TEXT.match(t)) / n
    if codes >= _CODE_SHARE and max(len(t) for t in counted) <= 12:
        return "code"
    return "word"


_BUCKETS: dict[str, int] = {}  # 3-gram -> its hash bucket, computed once per process


def _bucket(gram: str) -> int:
    found = _BUCKETS.get(gram)
    if found is None:
        if len(_BUCKETS) > 500_000:  # bound the memory on endless distinct text
            _BUCKETS.clear()
        found = _BUCKETS[gram] = zlib.crc32(gram.encode()) % QGRAM_DIM
    return found


def _qgrams(texts: Sequence[str]) -> np.ndarray:
    padded = [f" {text} " for text in texts]
    counts = Counter([p[i : i + 3] for p in padded for i in range(len(p) - 2)])
    vec = np.zeros(QGRAM_DIM, dtype=np.float32)
    if counts:
        buckets = np.fromiter(map(_bucket, counts), dtype=np.int64, count=len(counts))
        np.add.at(vec, buckets, np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm else vec


def profile_column(
    series: pd.Series, sample_size: int = SAMPLE_SIZE, seed: int = 0
) -> ValueProfile:
    """Profile one column from a sample of at most ``sample_size`` non-null values."""
    total = len(series)
    sample = _sample(series, sample_size, seed)
    n = len(sample)
    null_fraction = 1.0 - (series.notna().sum() / total) if total else 1.0
    numbers = np.empty(0)
    semantic: str | None
    if n == 0:
        kind, semantic, normalized = "empty", "empty", pd.Series([], dtype=str)
        texts = normalized
    elif pd.api.types.is_bool_dtype(sample):
        kind, semantic = "boolean", "boolean"
        texts = sample.astype(str)
        normalized = texts.str.lower()
    elif pd.api.types.is_numeric_dtype(sample):
        numbers = sample.to_numpy(float)
        is_int = bool(np.all(np.mod(numbers, 1) == 0))
        kind = semantic = "integer" if is_int else "decimal"
        if isinstance(sample.dtype, np.dtype) and sample.dtype.kind in "iuf":
            # numbers repeat: spell each distinct one once (the same strings, in sample order)
            return _numeric_profile(series, sample, numbers, kind, null_fraction)
        texts = sample.astype(str)
        normalized = pd.Series([_canonical_number(x) for x in numbers], dtype=str)
    elif pd.api.types.is_datetime64_any_dtype(sample):
        kind = semantic = "datetime"
        texts = sample.astype(str)
        normalized = sample.dt.strftime("%Y-%m-%d")
    elif any(isinstance(v, bytes | bytearray | memoryview) for v in sample):
        kind = semantic = "binary"
        texts = pd.Series([], dtype=str)
        normalized = sample.map(lambda v: zlib.crc32(bytes(v)).__str__())
    else:
        texts = sample.astype(str)
        semantic = _semantic(texts, str(series.name))
        parsed = (
            _to_numbers(texts.str.strip())
            if semantic in (None, "currency") and may_be_numbers(texts.tolist())
            else None
        )
        if semantic == "datetime":
            kind = "datetime"
            dates = to_dates(texts)
            normalized = dates.dt.strftime("%Y-%m-%d").fillna(texts.str.lower())
        elif parsed is not None and len(parsed):
            numbers = parsed
            is_int = bool(np.all(np.mod(numbers, 1) == 0))
            kind = "integer" if is_int else "decimal"
            semantic = semantic or kind
            normalized = pd.Series([_canonical_number(x) for x in numbers], dtype=str)
        else:
            kind = "text"
            if semantic == "boolean":
                normalized = texts.str.lower().str[0].map({"t": "1", "y": "1", "f": "0", "n": "0"})
            elif semantic == "phone":
                normalized = texts.str.replace(r"\D", "", regex=True)
            else:
                semantic = semantic or _text_semantic(texts.tolist())
                folded = {t: _NON_ALNUM.sub("", t.casefold()) for t in dict.fromkeys(texts)}
                normalized = texts.map(folded)
    lengths = texts.str.len().to_numpy(float) if len(texts) else np.zeros(1)
    patterns = _shape_counts(texts.tolist())
    top = dict(patterns.most_common(30))
    distinct = set(normalized.dropna().astype(str))
    qgram_texts = [t.casefold() for t in texts.iloc[:300]] if len(texts) else []
    standardized = np.empty(0)
    if len(numbers) >= 8 and float(np.std(numbers)) > 0:
        standardized = np.sort((numbers - numbers.mean()) / numbers.std())
    frequencies = np.empty(0)
    counted = normalized.dropna().astype(str).value_counts()
    if n >= 20 and 2 <= len(counted) <= max(2, n // 4):
        frequencies = (counted.to_numpy(float) / counted.sum())[:FREQUENCY_TOP]
    return ValueProfile(
        name=str(series.name),
        sample_count=n,
        kind=kind,
        semantic=semantic,
        null_fraction=float(null_fraction),
        distinct_ratio=len(distinct) / n if n else 0.0,
        length_mean=float(lengths.mean()),
        length_std=float(lengths.std()),
        patterns={p: c / max(n, 1) for p, c in top.items()},
        numbers=np.sort(numbers),
        values=frozenset(distinct),
        qgrams=_qgrams(qgram_texts),
        standardized=standardized,
        frequencies=frequencies,
    )


def _numeric_profile(
    series: pd.Series, sample: pd.Series, numbers: np.ndarray, kind: str, null_fraction: float
) -> ValueProfile:
    """:func:`profile_column` of a column of numbers, each distinct value spelled once."""
    n = len(sample)
    raw = sample.to_numpy()
    # floats by their bits, so that -0.0 and 0.0 stay two values, as their spellings are
    bits = raw.view(f"i{raw.dtype.itemsize}") if raw.dtype.kind == "f" else raw
    _, first, inverse, counts = np.unique(
        bits, return_index=True, return_inverse=True, return_counts=True
    )
    order = np.argsort(first, kind="stable")  # distinct values in order of appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    at = rank[inverse.ravel()]  # each sampled value's distinct index, by appearance
    spelled = pd.Series(raw[first[order]], dtype=sample.dtype).astype(str).tolist()
    canonical = [_canonical_number(x) for x in numbers[first[order]]]
    times = counts[order].tolist()
    lengths = np.array([len(t) for t in spelled], dtype=float)[at]
    patterns: Counter[str] = Counter()
    for text, count in zip(spelled, times, strict=True):
        patterns[_shape(text)] += count
    top = dict(patterns.most_common(30))
    shares: Counter[str] = Counter()
    for text, count in zip(canonical, times, strict=True):
        shares[text] += count
    standardized = np.empty(0)
    if len(numbers) >= 8 and float(np.std(numbers)) > 0:
        standardized = np.sort((numbers - numbers.mean()) / numbers.std())
    frequencies = np.empty(0)
    if n >= 20 and 2 <= len(shares) <= max(2, n // 4):
        counted = np.sort(np.fromiter(shares.values(), dtype=float, count=len(shares)))[::-1]
        frequencies = (counted / counted.sum())[:FREQUENCY_TOP]
    return ValueProfile(
        name=str(series.name),
        sample_count=n,
        kind=kind,
        semantic=kind,
        null_fraction=float(null_fraction),
        distinct_ratio=len(shares) / n,
        length_mean=float(lengths.mean()),
        length_std=float(lengths.std()),
        patterns={p: c / max(n, 1) for p, c in top.items()},
        numbers=np.sort(numbers),
        values=frozenset(shares),
        qgrams=_qgrams([spelled[k].casefold() for k in at[:300]]),
        standardized=standardized,
        frequencies=frequencies,
    )


def profile_frame(
    df: pd.DataFrame, sample_size: int = SAMPLE_SIZE, seed: int = 0
) -> list[ValueProfile]:
    """Profiles of all columns of ``df``, in column order."""
    return [profile_column(df[c], sample_size, seed) for c in df.columns]


def _ks_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """1 - the two-sample Kolmogorov-Smirnov statistic (sorted inputs)."""
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / len(a)
    cdf_b = np.searchsorted(b, grid, side="right") / len(b)
    return float(1.0 - np.max(np.abs(cdf_a - cdf_b)))


def _frequency_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """1 - the total variation distance between two lists of value shares (largest first),
    times how alike their numbers of distinct values are."""
    size = max(len(a), len(b))
    pa, pb = np.zeros(size), np.zeros(size)
    pa[: len(a)], pb[: len(b)] = a, b
    return float((1.0 - 0.5 * np.abs(pa - pb).sum()) * min(len(a), len(b)) / size)


def _closeness(x: float, y: float) -> float:
    """1 when equal, falling to 0 as the two non-negative numbers drift apart."""
    top = max(abs(x), abs(y))
    return 1.0 if top == 0 else 1.0 - abs(x - y) / top


VALUE_FEATURES = (
    "value_overlap",
    "value_containment",
    "value_qgrams",
    "value_patterns",
    "value_lengths",
    "value_numbers",
    "value_distinct",
    "value_nulls",
    "semantic_equal",
    "semantic_conflict",
    "kind_equal",
    "value_shape",
    "value_frequencies",
)
FREQUENCY_TOP = 12  # most frequent values compared by their shares


_SPECIFIC = {
    "email",
    "url",
    "uuid",
    "json",
    "ip_address",
    "hash",
    "datetime",
    "time",
    "phone",
    "credit_card",
    "iban",
    "binary",
}
_NUMERIC = {"integer", "decimal", "currency", "boolean"}


# types the detector takes only with a name hint (person_name, postal_code) say what the
# names say already: agreeing on them is no evidence from the values
_GENERIC = {"word", "words", "text", "empty", "code"} | _HINTED


def _conflict(a: str, b: str) -> bool:
    """Two semantic types that cannot describe the same data (email vs date, ...)."""
    if a == b:
        return False
    specific = _SPECIFIC | _NUMERIC
    return a in specific and b in specific and not (a in _NUMERIC and b in _NUMERIC)


def value_similarities(
    source: Sequence[ValueProfile], target: Sequence[ValueProfile]
) -> dict[str, np.ndarray]:
    """All-pairs value similarities in [0, 1], each an (n_source, n_target) matrix.

    Computed for all pairs at once (:mod:`pairwise`); each equals the one-pair definition
    (:func:`pair_similarities`).
    """
    shape = (len(source), len(target))
    out = {name: np.zeros(shape, dtype=np.float32) for name in VALUE_FEATURES}
    if not source or not target:
        return out
    out["value_qgrams"] = np.clip(
        np.stack([p.qgrams for p in source]) @ np.stack([p.qgrams for p in target]).T, 0, 1
    )
    overlap, containment = pairwise.set_overlap(
        [p.values for p in source], [p.values for p in target]
    )
    out["value_overlap"][:] = overlap
    out["value_containment"][:] = containment
    out["value_patterns"][:] = pairwise.shared_mass(
        [p.patterns for p in source], [p.patterns for p in target]
    )

    def column(attr: str, profiles: Sequence[ValueProfile]) -> np.ndarray:
        return np.array([getattr(p, attr) for p in profiles], dtype=np.float64)

    out["value_lengths"][:] = pairwise.closeness(
        column("length_mean", source), column("length_mean", target)
    ) * (0.5 + 0.5 * pairwise.closeness(column("length_std", source), column("length_std", target)))
    out["value_numbers"][:] = pairwise.ks_similarity(
        [p.numbers for p in source], [p.numbers for p in target]
    )
    for feature, attr in (("value_distinct", "distinct_ratio"), ("value_nulls", "null_fraction")):
        a, b = column(attr, source), column(attr, target)
        out[feature][:] = 1.0 - np.abs(a[:, None] - b[None, :])
    sem_a = np.array([p.semantic for p in source], dtype=object)[:, None]
    sem_b = np.array([p.semantic for p in target], dtype=object)[None, :]
    generic = np.array([p.semantic in _GENERIC for p in source])[:, None]
    out["semantic_equal"][:] = (sem_a == sem_b) & ~generic
    specific = _SPECIFIC | _NUMERIC
    typed_a = np.array([p.semantic in specific for p in source])[:, None]
    typed_b = np.array([p.semantic in specific for p in target])[None, :]
    number_a = np.array([p.semantic in _NUMERIC for p in source])[:, None]
    number_b = np.array([p.semantic in _NUMERIC for p in target])[None, :]
    out["semantic_conflict"][:] = (sem_a != sem_b) & typed_a & typed_b & ~(number_a & number_b)
    kind_a = np.array([p.kind for p in source], dtype=object)[:, None]
    kind_b = np.array([p.kind for p in target], dtype=object)[None, :]
    numeric_a = np.array([p.kind in ("integer", "decimal") for p in source])[:, None]
    numeric_b = np.array([p.kind in ("integer", "decimal") for p in target])[None, :]
    out["kind_equal"][:] = (kind_a == kind_b) | (numeric_a & numeric_b)
    out["value_shape"][:] = pairwise.ks_similarity(
        [p.standardized for p in source], [p.standardized for p in target]
    )
    out["value_frequencies"][:] = pairwise.frequency_similarity(
        [p.frequencies for p in source], [p.frequencies for p in target], FREQUENCY_TOP
    )
    return out


def pair_similarities(a: ValueProfile, b: ValueProfile) -> dict[str, float]:
    """The value signals of one pair, by their definitions (what the matrices must equal)."""
    out = dict.fromkeys(VALUE_FEATURES, 0.0)
    out["value_qgrams"] = float(np.clip(a.qgrams @ b.qgrams, 0, 1))
    if a.values and b.values:
        inter = len(a.values & b.values)
        out["value_overlap"] = inter / len(a.values | b.values)
        out["value_containment"] = inter / min(len(a.values), len(b.values))
    common = a.patterns.keys() & b.patterns.keys()
    out["value_patterns"] = sum(min(a.patterns[p], b.patterns[p]) for p in common)
    out["value_lengths"] = _closeness(a.length_mean, b.length_mean) * (
        0.5 + 0.5 * _closeness(a.length_std, b.length_std)
    )
    if len(a.numbers) and len(b.numbers):
        out["value_numbers"] = _ks_similarity(a.numbers, b.numbers)
    out["value_distinct"] = 1.0 - abs(a.distinct_ratio - b.distinct_ratio)
    out["value_nulls"] = 1.0 - abs(a.null_fraction - b.null_fraction)
    out["semantic_equal"] = float(a.semantic == b.semantic and a.semantic not in _GENERIC)
    out["semantic_conflict"] = float(_conflict(a.semantic, b.semantic))
    out["kind_equal"] = float(a.kind == b.kind or {a.kind, b.kind} == {"integer", "decimal"})
    if len(a.standardized) and len(b.standardized):
        out["value_shape"] = _ks_similarity(a.standardized, b.standardized)
    if len(a.frequencies) and len(b.frequencies):
        out["value_frequencies"] = _frequency_similarity(a.frequencies, b.frequencies)
    return out
