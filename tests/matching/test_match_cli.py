"""`workbench match` and `workbench mapping ...` in-process against a fresh store."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tests.matching.stored import name_vs_values, pg_tables, pg_target, sqlite_db
from workbench.cli import main

__all__ = ["pg_target"]


def test_match_then_review_and_check(store_url, tmp_path, pg_target, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", store_url)
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WORKBENCH_USER", "tester")
    source, target = name_vs_values("code", "sku", 1)
    pg_tables(
        pg_target,
        "CREATE TABLE items (item_id bigint, code text, sku text, qty bigint, "
        "region text NOT NULL)",
        {"items": target.assign(region="north")},
    )
    source_url = sqlite_db(tmp_path / "s.sqlite", {"items": source})

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.stdout

    run("project", "create", "p")
    run("connection", "add", "p", "src", source_url, "--role", "source")
    run("connection", "add", "p", "tgt", pg_target, "--role", "target")
    saved = json.loads(run("match", "p", "--source", "src", "--target", "tgt", "--json"))
    assert [(m["source_table"], m["target_table"]) for m in saved] == [("items", "items")]
    pairs = {(c["source_column"], c["target_column"], c["state"]) for c in saved[0]["columns"]}
    assert ("code", "code", "suggested") in pairs

    assert "items -> items" in run("mapping", "list", "p")
    shown = run("mapping", "show", "p", "items")
    assert "WHY" in shown and "names agree" in shown and "name_ratio" not in shown
    run("mapping", "override", "p", "items", "code", "sku")
    shown = json.loads(run("mapping", "accept", "p", "items", "--all", "--json"))
    states = {(c["source_column"], c["target_column"]): c["state"] for c in shown["columns"]}
    assert states[("code", "sku")] == "accepted" and states[("code", "code")] == "rejected"
    # region is NOT NULL without a default and unmapped: check fails with a clear line
    out = run("mapping", "check", "p", code=1)
    assert "required_unmapped" in out and "region" in out
    problems = json.loads(run("mapping", "check", "p", "--json", code=1))
    assert [p["column"] for p in problems if p["severity"] == "error"] == ["region"]
