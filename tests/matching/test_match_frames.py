"""The public contract of match_frames, score_frames and match_tables."""

from __future__ import annotations

import pandas as pd
import pytest

import workbench.matching as matching
from workbench.errors import InvalidInputError
from workbench.matching.candidates import FEATURES


def test_returns_one_to_one_suggestions_with_reasons(source_people, target_people) -> None:
    target = target_people.rename(
        columns={
            "first_name": "GivenName",
            "last_name": "Surname",
            "email": "EMail_Addr",
            "phone": "Telephone",
            "city": "Town",
            "signup_date": "created_at",
            "balance": "acct_balance",
            "customer_id": "CustomerID",
        }
    )
    found = matching.match_frames(source_people, target)
    assert all(isinstance(s, matching.Suggestion) for s in found)
    pairs = {(s.source_column, s.target_column) for s in found}
    assert ("first_name", "GivenName") in pairs
    assert ("last_name", "Surname") in pairs
    assert ("email", "EMail_Addr") in pairs
    assert ("phone", "Telephone") in pairs
    assert len({s.source_column for s in found}) == len(found)
    assert len({s.target_column for s in found}) == len(found)
    for s in found:
        assert 0.0 <= s.confidence <= 1.0
        assert s.reasons and set(s.reasons) <= set(FEATURES)
    # suggestions come in source column order
    order = list(source_people.columns)
    assert [order.index(s.source_column) for s in found] == sorted(
        order.index(s.source_column) for s in found
    )


def test_a_column_without_counterpart_stays_unmatched(source_people, target_people) -> None:
    target = target_people.drop(columns=["phone", "balance"]).assign(
        notes=["call back later"] * len(target_people)
    )
    found = matching.match_frames(source_people, target)
    matched_sources = {s.source_column for s in found}
    assert "phone" not in matched_sources
    assert "balance" not in matched_sources
    assert "notes" not in {s.target_column for s in found}


def test_threshold_is_respected(source_people, target_people) -> None:
    everything = matching.match_frames(source_people, target_people, threshold=0.0)
    strict = matching.match_frames(source_people, target_people, threshold=0.999)
    assert len(everything) == len(source_people.columns)
    assert all(s.confidence >= 0.999 for s in strict)
    assert len(strict) <= len(everything)


def test_schema_information_is_used(source_people) -> None:
    # with the table name, "cust_" is a table prefix and "cust_mail" means the email
    target = source_people.rename(columns={c: f"cust_{c}" for c in source_people.columns})
    found = matching.match_frames(
        source_people,
        target,
        source_table="customer",
        target_table="customer",
        target_types={"cust_balance": "numeric(10,2)", "cust_customer_id": "integer"},
    )
    assert {(s.source_column, s.target_column) for s in found} >= {
        ("email", "cust_email"),
        ("balance", "cust_balance"),
    }


def test_score_frames_ranks_every_pair(source_people, target_people) -> None:
    ranked = matching.score_frames(source_people, target_people)
    assert len(ranked) == len(source_people.columns) * len(target_people.columns)
    confidences = [s.confidence for s in ranked]
    assert confidences == sorted(confidences, reverse=True)


def test_empty_and_invalid_inputs(source_people) -> None:
    assert matching.match_frames(source_people, pd.DataFrame()) == []
    assert matching.match_frames(source_people.iloc[:0], source_people.iloc[:0]) is not None
    with pytest.raises(InvalidInputError):
        matching.match_frames(source_people, [1, 2, 3])  # type: ignore[arg-type]


def test_column_names_that_are_not_text_or_repeat(source_people) -> None:
    """read_csv(header=None) names columns 0, 1, 2...: they match as "0", "1", "2"; a frame
    with two columns of one name is refused with that name."""
    numbered = source_people.set_axis(range(source_people.shape[1]), axis=1)
    found = {
        (s.source_column, s.target_column) for s in matching.match_frames(numbered, source_people)
    }
    assert ("0", source_people.columns[0]) in found
    assert len(found) >= source_people.shape[1] - 1
    twice = source_people.set_axis(["name"] * source_people.shape[1], axis=1)
    with pytest.raises(InvalidInputError, match="more than one column named 'name'"):
        matching.match_frames(twice, source_people)


def test_match_tables_pairs_tables_then_columns(source_people, target_people) -> None:
    orders = pd.DataFrame(
        {
            "order_id": range(1, 201),
            "customer_id": [i % 100 + 1 for i in range(200)],
            "total": [float(i % 37) * 1.5 for i in range(200)],
        }
    )
    orders_t = orders.rename(
        columns={"order_id": "OrderNo", "customer_id": "CustRef", "total": "Amount"}
    )
    found = matching.match_tables(
        {"customer": source_people, "orders": orders},
        {"Orders": orders_t, "Customers": target_people, "audit_log": pd.DataFrame({"x": [1, 2]})},
    )
    by_source = {t.source_table: t for t in found}
    assert by_source["customer"].target_table == "Customers"
    assert by_source["orders"].target_table == "Orders"
    assert "audit_log" not in {t.target_table for t in found}
    assert ("order_id", "OrderNo") in {
        (s.source_column, s.target_column) for s in by_source["orders"].columns
    }
