"""README's first session against a new, empty target database: match says what to do, creates
the target tables from the type map when asked, one call accepts every suggestion, and migrate
loads them, validated."""

from __future__ import annotations

import json

import psycopg
import pytest


@pytest.mark.slow  # a migration of Chinook
def test_a_first_session_from_an_target(run, chinook_sqlite, target):
    run("project", "create", "first")
    run("connection", "add", "first", "src", chinook_sqlite)
    run("connection", "add", "first", "tgt", target, "--role", "target")

    nothing = run("match", "first", "--source", "src", "--target", "tgt")
    assert nothing.exit_code == 1
    assert "No table pairs found" in nothing.stderr and "--create-tables" in nothing.stderr
    assert "workbench copy src tgt --project first" in nothing.stderr

    made = run("match", "first", "--source", "src", "--target", "tgt", "--create-tables",
               "--json")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    assert "Created 11 empty target tables from the type map." in made.stderr
    saved = json.loads(made.stdout)
    assert len(saved) == 11
    with psycopg.connect(target) as conn:  # keys and foreign keys are there, rows not
        keys = conn.execute(
            "SELECT count(*) FILTER (WHERE contype = 'p'), count(*) FILTER (WHERE contype = 'f')"
            " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE n.nspname = 'public'"
        ).fetchone()
        assert keys == (11, 11)
        assert conn.execute('SELECT count(*) FROM public."Track"').fetchone()[0] == 0

    again = run("match", "first", "--source", "src", "--target", "tgt", "--create-tables")
    assert "Created 0 empty target tables from the type map; 11 existed already." in again.stderr

    accepted = json.loads(run("mapping", "accept", "first", "--all", "--json").stdout)
    assert len(accepted) == 11
    assert all(c["state"] == "accepted" for m in accepted for c in m["columns"])

    done = run("migrate", "first", "--json")
    assert done.exit_code == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "succeeded" and result["validated"]
    assert result["rows_copied"] == 15607
