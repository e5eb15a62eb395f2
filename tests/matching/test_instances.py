"""Value signals: semantic types, and matching opaque names through values alone."""

from __future__ import annotations

import pandas as pd
import pytest

import workbench.matching as matching
from workbench.matching.instances import profile_column

SEMANTIC = [
    (["a@b.com", "x.y@z.org", "q+1@mail.co.uk"], "email"),
    (["10.0.0.1", "192.168.1.20", "2001:db8::1"], "ip_address"),
    (["https://a.org/x", "http://b.com", "www.c.net/p"], "url"),
    (["123e4567-e89b-12d3-a456-426614174000"] * 3, "uuid"),
    (["+1 (514) 721-4711", "0711 2842222", "+49 30 123456"], "phone"),
    (["2021-01-01", "15/02/2006", "Feb 15, 2006"], "datetime"),
    (["20210101", "20060215", "19991231"], "datetime"),
    (["$12.00", "$1,234.50", "$0.99"], "currency"),
    (["yes", "no", "yes"], "boolean"),
    (["8cb2237d0679ca88db6464eac60da96345513964"] * 3, "hash"),
    (["PG", "NC-17", "R"], "code"),
    (["Berlin", "Lisbon", "Rome"], "word"),
]


@pytest.mark.parametrize(("values", "semantic"), SEMANTIC, ids=[s[1] for s in SEMANTIC])
def test_semantic_type(values: list[str], semantic: str) -> None:
    assert profile_column(pd.Series(values, name="x")).semantic == semantic


def test_format_changes_keep_value_overlap() -> None:
    a = profile_column(pd.Series(["(617) 223-5589", "(514) 721-4711"]))
    b = profile_column(pd.Series(["6172235589", "5147214711"]))
    assert a.values == b.values
    d1 = profile_column(pd.Series(pd.to_datetime(["2006-02-15", "2007-03-01"])))
    d2 = profile_column(pd.Series(["15/02/2006", "03/01/2007"]))
    assert d1.values & d2.values
    # compact dates are dates, not integers that conflict with a date column
    d3 = profile_column(pd.Series(["20060215", "20070301"] * 5))
    assert (d3.kind, d3.semantic) == ("datetime", "datetime")
    assert d3.values == d1.values


def test_opaque_names_match_through_values(source_people, target_people) -> None:
    # the target's names say nothing: col_1 ... col_8, in another order
    shuffled = target_people[list(reversed(target_people.columns))]
    opaque = shuffled.set_axis([f"col_{k}" for k in range(1, shuffled.shape[1] + 1)], axis=1)
    truth = dict(zip(shuffled.columns, opaque.columns, strict=True))
    found = matching.match_frames(source_people, opaque)
    pairs = {(s.source_column, s.target_column) for s in found}
    for column in ("email", "phone", "signup_date", "balance", "city"):
        assert (column, truth[column]) in pairs, column
    # the values carried it: each suggestion's value signals added to its confidence
    for s in found:
        assert sum(v for k, v in s.reasons.items() if k.startswith("value_")) > 0


AGREEMENT = [
    (["Mary Smith", "John O'Neil", "Ana Lopez"], "full_name"),
    (["12345", "02134", "94105-1234"], "postal_code"),
    (["10.0.0.1", "192.168.1.20", "2001:db8::1"], "ip"),
    (["4111 1111 1111 1111", "5555555555554444", "378282246310005"], "cc"),
    (["Action", "Comedy", "Drama"] * 10, "name"),  # a category, not person names
]


@pytest.mark.parametrize(("values", "column"), AGREEMENT, ids=[a[1] for a in AGREEMENT])
def test_matching_and_profiling_agree_on_semantic_types(values: list[str], column: str) -> None:
    """One detector: what profiling flags (PII, masking) is what matching compares; its
    descriptive types (category, title, place, ...) are matching's shape classes."""
    from workbench.profiling import semantic

    profiled = semantic.detect(values, column).name
    matched = profile_column(pd.Series(values, name=column)).semantic
    if profiled is None or profiled in semantic.DESCRIPTIVE | {"code"}:
        assert matched in {"word", "words", "code", "text"}
    else:
        assert matched == profiled
