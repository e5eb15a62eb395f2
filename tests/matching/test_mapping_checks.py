"""Saved mappings: versions, listing, and every check before a run (SQLite -> PostgreSQL)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.matching.stored import make_project, pg_tables, pg_target, sqlite_db
from workbench.errors import InvalidInputError, NotFoundError
from workbench.matching import checks, decisions, mappings

__all__ = ["pg_target"]

SOURCE = pd.DataFrame(
    {
        "customer_id": [1, 2, 3, 4],
        "email": ["a@x.org", "b@x.org", "c@x.org", "d@x.org"],
        "signup": ["2024-01-05", "2024-02-03", "03/01/2024", "2024-04-09"],  # one bad date
        "score": ["10", "20", "n/a", "40"],
    }
)
TARGET_DDL = """
CREATE TABLE customers (
    customer_id bigint NOT NULL,
    email text NOT NULL,
    signup timestamp,
    score integer,
    region text NOT NULL,
    note text NOT NULL DEFAULT ''
)
"""
# the target holds a few rows, so value signals work too
TARGET_ROWS = pd.DataFrame(
    {
        "customer_id": [7, 8],
        "email": ["q@y.org", "r@y.org"],
        "signup": [pd.Timestamp("2023-01-01")] * 2,
        "score": [5, 6],
        "region": ["north", "south"],
        "note": ["", ""],
    }
)


@pytest.fixture
def project(store, tmp_path, pg_target) -> str:
    pg_tables(pg_target, TARGET_DDL, {"customers": TARGET_ROWS})
    make_project(store, "crm", sqlite_db(tmp_path / "crm.sqlite", {"customers": SOURCE}), pg_target)
    return "crm"


def _codes(problems: list[checks.MappingProblem]) -> set[tuple[str, str | None, str]]:
    return {(p.code, p.column, p.severity) for p in problems}


def test_versions_listing_and_lookup(store, project):
    (first,) = mappings.suggest_mappings(store, project, "src", "tgt")
    assert first.version == 1 and first.label == "customers -> customers"
    assert {c.state for c in first.columns} == {"suggested"}
    assert all(c.reasons for c in first.columns)
    # the same suggestions again: nothing changed, same version
    (again,) = mappings.suggest_mappings(store, project, "src", "tgt")
    assert (again.id, again.version) == (first.id, 1)
    accepted = decisions.accept(store, project, first.id, "email")
    assert accepted.version == 2
    rejected = decisions.reject(store, project, "customers", "customer_id")
    assert rejected.version == 3
    # suggesting again keeps both decisions and brings back no refused pair
    (kept,) = mappings.suggest_mappings(store, project, "src", "tgt")
    states = {(c.source_column, c.target_column): c.state for c in kept.columns}
    assert states[("email", "email")] == "accepted"
    assert states[("customer_id", "customer_id")] == "rejected"
    assert kept.id == first.id and kept.version in (3, 4)  # 4 when the suggestions changed
    assert [m.id for m in mappings.list_mappings(store, project)] == [first.id]
    assert mappings.get_mapping(store, project, "customers->customers").id == first.id
    with pytest.raises(NotFoundError, match="No mapping"):
        mappings.get_mapping(store, project, "orders")
    with pytest.raises(InvalidInputError, match="already takes"):
        decisions.override(store, project, first.id, "customer_id", "email")


def test_clean_mapping_has_no_problems(store, project):
    (m,) = mappings.suggest_mappings(store, project, "src", "tgt")
    decisions.accept_all(store, project, m.id)
    decisions.set_transform(store, project, m.id, "region", {"expression": "'west'"}, computed=True)
    decisions.set_transform(
        store, project, m.id, "signup", {"date_format": "%Y-%m-%d", "on_error": "null"}
    )
    decisions.set_transform(
        store, project, m.id, "score", {"value_map": {"n/a": None}, "cast": "int64"}
    )
    assert checks.check_mappings(store, project) == []


def test_required_target_column_left_unmapped(store, project):
    (m,) = mappings.suggest_mappings(store, project, "src", "tgt")
    decisions.accept_all(store, project, m.id)
    problems = checks.check_mappings(store, project)
    assert ("required_unmapped", "region", "error") in _codes(problems)
    # a NOT NULL column with a default is not required
    assert not any(p.column == "note" for p in problems)
    assert "NOT NULL" in next(p.message for p in problems if p.column == "region")


def test_incompatible_type_without_a_cast(store, project):
    (m,) = mappings.suggest_mappings(store, project, "src", "tgt")
    decisions.accept_all(store, project, m.id)
    decisions.set_transform(store, project, m.id, "region", {"expression": "'west'"}, computed=True)
    problems = checks.check_mappings(store, project)
    # text "score" into an integer column, and text "signup" into a timestamp, need a cast
    assert {("type_mismatch", "score", "error"), ("type_mismatch", "signup", "error")} <= _codes(
        problems
    )
    message = next(p.message for p in problems if p.column == "score")
    assert "cast" in message and "integer" in message
    decisions.set_transform(store, project, m.id, "score", {"cast": "string"})  # still text
    assert ("type_mismatch", "score", "error") in _codes(checks.check_mappings(store, project))


def test_two_sources_on_one_target(store, project):
    (m,) = mappings.suggest_mappings(store, project, "src", "tgt")
    decisions.accept(store, project, m.id, "customer_id")
    # the user maps "score" into "email" while "email" is still suggested for "email"
    decisions.override(store, project, m.id, "score", "email")
    problems = checks.check_mappings(store, project)
    duplicate = [p for p in problems if p.code == "duplicate_target"]
    assert [(p.column, p.severity) for p in duplicate] == [("email", "warning")]
    assert (
        "score (accepted)" in duplicate[0].message and "email (suggested)" in duplicate[0].message
    )


def test_transform_failing_on_sample_values(store, project):
    (m,) = mappings.suggest_mappings(store, project, "src", "tgt")
    decisions.accept_all(store, project, m.id)
    decisions.set_transform(store, project, m.id, "region", {"expression": "'west'"}, computed=True)
    decisions.set_transform(store, project, m.id, "signup", {"date_format": "%Y-%m-%d"})
    decisions.set_transform(store, project, m.id, "score", {"cast": "int64"})
    problems = checks.check_mappings(store, project)
    failing = {p.column: p.message for p in problems if p.code == "transform_fails"}
    assert set(failing) == {"signup", "score"}
    assert "1 of 4 sample rows" in failing["score"] and "'n/a'" in failing["score"]
    assert "'03/01/2024'" in failing["signup"]
    assert all(p.severity == "error" for p in problems if p.code == "transform_fails")


def test_an_editor_cannot_store_sql_that_is_not_a_value_of_the_row(store, project):
    """Refused when stored (`workbench mapping transform`), before an owner runs anything."""
    (m,) = mappings.suggest_mappings(store, project, "src", "tgt")
    decisions.accept_all(store, project, m.id)
    for hostile in (
        "(SELECT password FROM users)",
        "email; DROP TABLE customers",
        "load_extension('/tmp/x.so')",
        "email /* c */",
    ):
        with pytest.raises(InvalidInputError, match="is refused"):
            decisions.set_transform(store, project, m.id, "email", {"expression": hostile})
    stored = mappings.get_mapping(store, project, m.id)
    assert all(not (c.transform or {}).get("expression") for c in stored.columns)
    # a value of the row is fine, and the check before a run reads it safely
    decisions.set_transform(store, project, m.id, "email", {"expression": "lower(email)"})
