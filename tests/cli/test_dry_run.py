"""`workbench copy --dry-run` shows what a copy would do (tables, partitions, estimated rows,
the exact DDL) and changes nothing; `python -m workbench` is the same command line."""

from __future__ import annotations

import json
import subprocess
import sys

import psycopg


def _user_tables(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog',"
            " 'information_schema')"
        ).fetchone()[0]


def _names(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname NOT IN"
                " ('pg_catalog', 'information_schema')"
            ).fetchall()
        ]


def test_dry_run_plans_and_renders_ddl_without_changing_anything(run, chinook_sqlite, target):
    done = run("copy", chinook_sqlite, target, "--dry-run", "--partition-rows", "2000",
               "--json")  # fmt: skip
    assert done.exit_code == 0, done.stderr
    plan = json.loads(done.stdout)
    tables = {t["source"].split(".")[-1]: t for t in plan["tables"]}
    assert len(tables) == 11 and tables["Track"]["rows"] == 3503
    assert tables["Track"]["partitions"] == 2  # 3,503 rows at 2,000 a partition
    assert tables["Track"]["key"] == ["TrackId"] and tables["Track"]["exists"] is False
    assert plan["rows"] == 15607
    assert 'CREATE TABLE "public"."Track"' in plan["ddl"]
    assert "FOREIGN KEY" in plan["ddl"] and "-- phase 2: after the load" in plan["ddl"]
    assert _user_tables(target) == 0, _names(target)  # nothing created
    jobs = json.loads(run("jobs", "--json").stdout)
    assert jobs == []  # nothing recorded

    human = run("copy", chinook_sqlite, target, "--dry-run")
    assert "11 tables, about 15,607 rows in 11 partitions. Nothing was changed" in human.stdout
    assert "3,503" in human.stdout and "new" in human.stdout


def test_dry_run_says_which_target_tables_exist(run, chinook_sqlite, target):
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute('CREATE TABLE public."Genre" (id int)')
    human = run("copy", chinook_sqlite, target, "--dry-run")
    assert "Note: 1 target tables exist already (public.Genre): the copy would stop" in human.stdout


def test_python_dash_m_workbench_is_the_cli():
    done = subprocess.run([sys.executable, "-m", "workbench", "--help"], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: workbench [OPTIONS] COMMAND [ARGS]...")
