"""A suggestion's reasons read as a reviewer would say them."""

from __future__ import annotations

from workbench.matching.explain import reasons_in_words


def test_strongest_reasons_for_then_against():
    said = reasons_in_words(
        {"name_ratio": 2.5, "value_overlap": 1.2, "type_compat": -0.9, "value_nulls": 0.01}
    )
    assert said == "names agree, values overlap; but types do not fit"


def test_repeated_phrases_count_once_and_weak_signals_say_nothing():
    assert reasons_in_words({"name_ratio": 1.0, "name_raw": 0.9, "kind_equal": 0.5}) == (
        "names agree, same kind of data"
    )
    assert reasons_in_words({"value_nulls": 0.01}) == "no strong signal"
    assert reasons_in_words({"something_new": 1.0}) == "something new"
