"""Feedback stored per organization: a correction changes later suggestions for the same
organization on a similar unseen pair, and not for another organization."""

from __future__ import annotations

import pandas as pd

from tests.matching.stored import (
    make_project,
    name_vs_values,
    other_organization,
    pg_tables,
    pg_target,
    pg_target2,
    sqlite_db,
)
from workbench.matching import decisions, learning, mappings
from workbench.store import feedback as stored_feedback

__all__ = ["pg_target", "pg_target2"]

DDL = "CREATE TABLE {t} (item_id bigint, {a} text, {b} text, qty bigint)"


def _setup(tmp_path, url: str, table: str, key: str, other: str, seed: int) -> str:
    source, target = name_vs_values(key, other, seed)
    pg_tables(url, DDL.format(t=table, a=key, b=other), {table: target})
    return sqlite_db(tmp_path / f"{table}.sqlite", {table: source})


def _target_of(records: list[mappings.SchemaMappingRecord], source_column: str) -> str | None:
    (mapping,) = records
    found = [c for c in mapping.columns if c.source_column == source_column]
    return found[0].target_column if found else None


def test_a_stored_correction_changes_the_next_suggestion_for_the_organization_only(
    store, tmp_path, pg_target, pg_target2
):
    # project 1: the user moves "code" from the name-alike "code" to "sku", where its values are
    make_project(store, "p1", _setup(tmp_path, pg_target, "items", "code", "sku", 1), pg_target)
    first = mappings.suggest_mappings(store, "p1", "src", "tgt")
    assert _target_of(first, "code") == "code"
    assert {c.origin for c in first[0].columns} == {"fuzzy"}
    decisions.override(store, "p1", "items", "code", "sku")
    rows = stored_feedback.list_feedback(store)
    assert [(r["action"], r["target_column"], r["label"]) for r in rows] == [
        ("correct", "code", 0),
        ("correct", "sku", 1),
    ]
    assert rows[0]["created_by"] == "tester" and rows[0]["project_id"] == first[0].project_id
    # the acceptance keeps its row's rivals (stored in the same row, never as decisions)
    assert rows[0]["rivals"] == [] and len(rows[1]["rivals"]) >= 1
    assert "_rivals" not in rows[1]["features"]

    # an unseen pair with other names and values, shaped alike, in another project
    unseen = _setup(tmp_path, pg_target2, "parts", "ref", "part_no", 2)
    make_project(store, "p2", unseen, pg_target2)
    learned = mappings.suggest_mappings(store, "p2", "src", "tgt")
    assert _target_of(learned, "ref") == "part_no"
    assert {c.origin for c in learned[0].columns} == {"learned"}
    assert "feedback" in next(c for c in learned[0].columns if c.source_column == "ref").reasons

    # another organization has no feedback: the shipped model, the name-alike suggestion
    acme = other_organization(store)
    make_project(acme, "p2", unseen, pg_target2)
    theirs = mappings.suggest_mappings(acme, "p2", "src", "tgt")
    assert _target_of(theirs, "ref") == "ref"
    assert {c.origin for c in theirs[0].columns} == {"fuzzy"}
    assert stored_feedback.list_feedback(acme) == []


def test_the_organization_model_is_cached_and_retrained_on_new_feedback(store):
    first = learning.organization_model(store)
    assert learning.organization_model(store) is first  # no feedback: the shipped model
    record = {
        "action": "accept",
        "source_column": "kunde_id",
        "target_column": "customer_id",
        "label": 1,
        "features": dict.fromkeys(first.features, 0.5),
    }
    with store.session() as session:
        stored_feedback.add_feedback(session, store, [record])
    second = learning.organization_model(store)
    assert second is not first and second.info["feedback_records"] == 1
    assert second.synonyms.get("kunde") == "customer"
    assert learning.organization_model(store) is second  # cached until new feedback
    assert (
        learning.organization_model(store, other_organization(store).identity.organization_id)
        is first
    )


def test_reject_and_accept_store_feedback_and_audit_events(store, tmp_path, pg_target):
    from workbench.store.audit import list_events

    make_project(store, "p", _setup(tmp_path, pg_target, "items", "code", "sku", 1), pg_target)
    (mapping,) = mappings.suggest_mappings(store, "p", "src", "tgt")
    decisions.accept(store, "p", mapping.id, "item_id")
    decisions.reject(store, "p", mapping.id, "qty")
    rows = stored_feedback.list_feedback(store)
    assert [(r["action"], r["source_column"], r["label"]) for r in rows] == [
        ("accept", "item_id", 1),
        ("reject", "qty", 0),
    ]
    actions = [e.action for e in list_events(store, "p")]
    assert actions[:3] == ["mapping.reject", "mapping.accept", "mapping.suggest"]
    assert isinstance(pd.Timestamp(rows[0]["created_at"]), pd.Timestamp)
