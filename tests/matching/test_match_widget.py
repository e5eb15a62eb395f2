"""The Match widget's handlers without a browser: set dropdowns, call the handler, check state."""

from __future__ import annotations

import re

import pytest

from tests.matching.stored import make_project, name_vs_values, pg_tables, pg_target, sqlite_db
from workbench.matching import mappings
from workbench.store import feedback as stored_feedback
from workbench.widgets.match import MatchWidget, confidence_colour, diagram_svg

__all__ = ["pg_target"]


@pytest.fixture
def items_mapping(store, tmp_path, pg_target):
    """Project "p": an items table whose "code" values sit under "sku" in the target."""
    source, target = name_vs_values("code", "sku", 1)
    pg_tables(
        pg_target,
        "CREATE TABLE items (item_id bigint, code text, sku text, qty bigint)",
        {"items": target},
    )
    make_project(store, "p", sqlite_db(tmp_path / "s.sqlite", {"items": source}), pg_target)
    (m,) = mappings.suggest_mappings(store, "p", "src", "tgt")
    return m


def test_widget_shows_suggestions_and_saves_decisions(store, items_mapping):
    m = items_mapping
    widget = MatchWidget(store, "p", m.id)
    rows = {r.source: r for r in widget.rows}
    assert set(rows) == {"item_id", "code", "qty"}
    assert rows["code"].target.value == "code"
    # the confidence is calibrated on data the model never saw: identical names are very
    # likely right, not certain (the uncalibrated score said 100% for them)
    shown = float(re.search(r"([\d.]+)% suggested", rows["code"].info.value)[1])
    assert 90 <= shown < 100, rows["code"].info.value
    # reasons in words, never the matcher's feature names; nothing decided yet
    assert "names agree" in rows["code"].info.value and "name_" not in rows["code"].info.value
    assert {r.decision.value for r in rows.values()} == {"undecided"}
    assert widget.diagram.value.count("class='link'") == 3
    assert "stroke-dasharray" in widget.diagram.value  # suggestions are dashed

    rows["item_id"].decision.value = "accept"
    rows["qty"].decision.value = "reject"
    rows["code"].target.value = "sku"  # override
    assert "data-target='sku'" in widget.diagram.value  # the diagram follows the choice
    saved = widget.on_save()
    assert saved is not None and "Saved 3" in widget.status.value
    states = {(c.source_column, c.target_column): (c.state, c.origin) for c in saved.columns}
    assert states[("item_id", "item_id")][0] == "accepted"
    assert states[("qty", "qty")][0] == "rejected"
    assert states[("code", "code")][0] == "rejected"
    assert states[("code", "sku")] == ("accepted", "manual")
    assert saved.version == m.version + 1  # one Save, one new version
    actions = [r["action"] for r in stored_feedback.list_feedback(store)]
    assert actions == ["accept", "correct", "correct", "reject"]  # in source column order

    # a choice the store refuses shows the error and keeps the saved state
    rows = {r.source: r for r in widget.rows}
    rows["qty"].decision.value = "accept"  # fine on its own, but saved with a refused choice:
    rows["item_id"].target.value = "sku"
    assert widget.on_save() is None and "already takes" in widget.status.value
    after = mappings.get_mapping(store, "p", m.id)
    assert after.version == saved.version  # all or nothing
    assert {c.state for c in after.columns if c.source_column == "qty"} == {"rejected"}


def test_accept_all_from_a_confidence_is_one_version(store, items_mapping):
    m = items_mapping
    widget = MatchWidget(store, "p", m.id)
    widget.threshold.value = 0.0
    done = widget.on_accept_all()
    assert done is not None and done.version == m.version + 1
    assert {c.state for c in done.columns} == {"accepted"}
    assert "Accepted every suggestion from 0%: 3 column(s)" in widget.status.value


def test_diagram_colours_lines_by_confidence():
    svg = diagram_svg(
        ["a", "b"], ["x", "y"], [("a", "x", 0.95, "accepted"), ("b", "y", 0.3, "suggested")]
    )
    assert (
        f"stroke='{confidence_colour(0.95)}'" in svg and f"stroke='{confidence_colour(0.3)}'" in svg
    )
    assert confidence_colour(0.95) != confidence_colour(0.3)
