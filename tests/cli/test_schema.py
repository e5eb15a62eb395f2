"""`workbench schema show|ddl PROJECT CONNECTION` against a real SQLite (Chinook)."""

from __future__ import annotations

import json
import re


def test_schema_show_and_ddl(run, chinook_sqlite):
    assert run("project", "create", "music").exit_code == 0
    assert run("connection", "add", "music", "chinook", chinook_sqlite).exit_code == 0
    shown = run("schema", "show", "music", "chinook", "--json")
    assert shown.exit_code == 0, shown.stderr
    data = json.loads(shown.stdout)
    tables = {t["name"]: t for t in data["tables"]}
    assert data["dialect"] == "sqlite" and len(tables) == 11
    assert tables["Track"]["row_estimate"] == 3503
    total = {c["name"]: c for c in tables["Invoice"]["columns"]}["Total"]
    assert (total["source_type"], total["target_type"]) == ("NUMERIC(10,2)", "numeric(10,2)")
    text = run("schema", "show", "music", "chinook")
    assert "PlaylistTrack" in text.stdout and "PlaylistId, TrackId" in text.stdout
    # each column's types, without --json
    assert re.search(r"Total\s+NUMERIC\(10,2\)\s+numeric\(10,2\)\s+NOT NULL", text.stdout)
    assert re.search(r"InvoiceId\s+INTEGER\s+bigint\s+NOT NULL\s+PK", text.stdout)
    short = run("schema", "show", "music", "chinook", "--tables-only").stdout
    assert "PlaylistTrack" in short and "NUMERIC(10,2)" not in short
    ddl = run("schema", "ddl", "music", "chinook", "--naming", "snake")
    assert ddl.exit_code == 0
    assert 'CREATE TABLE "public"."invoice_line"' in ddl.stdout
    assert ddl.stdout.index("phase 2") < ddl.stdout.index("FOREIGN KEY")
    as_json = json.loads(run("schema", "ddl", "music", "chinook", "--json").stdout)
    assert len(as_json["create"]) == 12 and any("PRIMARY KEY" in s for s in as_json["post_load"])


def test_schema_show_unknown_connection(run):
    assert run("project", "create", "empty").exit_code == 0
    result = run("schema", "show", "empty", "nope")
    assert result.exit_code == 1 and "nope" in result.stderr
