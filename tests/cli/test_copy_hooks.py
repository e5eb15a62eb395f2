"""`workbench copy --before SQL --after SQL`: the user's SQL on the target around the load, as
pgloader's BEFORE/AFTER LOAD DO; a failing statement is named and says what state it left."""

from __future__ import annotations

import json

import psycopg
import pytest

pytestmark = pytest.mark.slow  # runs copies of Chinook


def test_before_and_after_sql_run_around_the_load(run, chinook_sqlite, target, tmp_path):
    after = tmp_path / "after.sql"
    after.write_text(
        'INSERT INTO audit.marker SELECT count(*) FROM public."Genre";\n'
        'CREATE INDEX genre_name ON public."Genre" ("Name");'
    )
    done = run("copy", chinook_sqlite, target, "--tables", "Genre",
               "--before", "CREATE SCHEMA audit; CREATE TABLE audit.marker (genres int)",
               "--after", f"@{after}", "--json")  # fmt: skip
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["validated"]
    with psycopg.connect(target) as conn:
        # the after SQL saw the loaded rows
        assert conn.execute("SELECT genres FROM audit.marker").fetchall() == [(25,)]
        assert conn.execute("SELECT to_regclass('public.genre_name')").fetchone()[0]


def test_a_failing_before_sql_is_named_and_nothing_is_made(run, chinook_sqlite, target):
    failed = run("copy", chinook_sqlite, target, "--tables", "Genre",
                 "--before", "CREATE TABLE t (x int); SELECT no_such_function()")  # fmt: skip
    assert failed.exit_code == 1
    assert "The --before SQL" in failed.stderr and "no_such_function" in failed.stderr
    assert "nothing was created or copied" in failed.stderr
    with psycopg.connect(target) as conn:
        assert conn.execute("SELECT to_regclass('public.t')").fetchone()[0] is None
        assert conn.execute("""SELECT to_regclass('public."Genre"')""").fetchone()[0] is None


def test_a_missing_sql_file_is_a_usage_error(run, chinook_sqlite, target):
    missing = run("copy", chinook_sqlite, target, "--after", "@/no/such.sql")
    assert missing.exit_code == 2 and "/no/such.sql is not a file" in missing.stderr
