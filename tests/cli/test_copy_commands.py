"""`workbench copy`, `jobs`, `job show`, `validate`: exit codes and --json shapes, as processes."""

from __future__ import annotations

import json
import time

import psycopg
import pytest

from tests.cli.conftest import run_process
from tests.servers import free_port


@pytest.fixture
def small_source(pg_server):
    name = pg_server.create_database("wbclisrc")
    url = pg_server.url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, 3000) i")
    yield url
    pg_server.drop_database(name)


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_copy_json_then_jobs_show_and_validate(small_source, target, cli_env):
    done = run_process("copy", small_source, target, "--json", "--workers", "1", env=cli_env)
    assert done.returncode == 0, done.stderr
    summary = last_json(done.stdout)
    for key in (
        "job_id",
        "status",
        "tables",
        "rows_copied",
        "rows_quarantined",
        "seconds",
        "rows_per_second",
        "validated",
    ):
        assert key in summary
    assert summary["status"] == "succeeded" and summary["validated"] is True
    assert summary["rows_copied"] == 3000 and summary["rows_quarantined"] == 0
    assert f"Job {summary['job_id']} started" in done.stderr

    listed = run_process("jobs", "--json", env=cli_env)
    assert listed.returncode == 0
    jobs = json.loads(listed.stdout)
    assert jobs[0]["id"] == summary["job_id"] and jobs[0]["status"] == "succeeded"

    shown = run_process("job", "show", str(summary["job_id"]), "--logs", "--json", env=cli_env)
    data = json.loads(shown.stdout)
    assert data["statistics"]["rows_copied"] == 3000
    assert any("Copied 3000 rows" in e["message"] for e in data["logs"])

    again = run_process("validate", str(summary["job_id"]), "--json", env=cli_env)
    assert again.returncode == 0 and json.loads(again.stdout)["ok"] is True
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("UPDATE public.items SET name = 'changed' WHERE id = 7")
    broken = run_process("validate", str(summary["job_id"]), "--json", env=cli_env)
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["ok"] is False


def test_copy_failure_json_and_exit_code(target, cli_env):
    dead = f"postgresql://app:s3cret-pw@127.0.0.1:{free_port()}/nowhere"
    done = run_process("copy", dead, target, "--json", env=cli_env)
    assert done.returncode == 3  # cannot connect
    summary = last_json(done.stdout)
    assert summary["status"] == "failed" and summary["validated"] is False
    assert "s3cret-pw" not in done.stdout + done.stderr
    error = json.loads(done.stderr.strip().splitlines()[-1])["error"]
    assert "127.0.0.1" in error["message"]


def test_copy_usage_errors(cli_env):
    done = run_process("copy", env=cli_env)
    assert done.returncode == 2
    done = run_process("copy", "nosuch://x", "postgresql://y/z", env=cli_env)
    assert done.returncode == 1 and "Unknown connection kind" in done.stderr


@pytest.mark.slow
def test_throttle_limits_rows_per_second(small_source, target, cli_env):
    started = time.monotonic()
    done = run_process(
        "copy",
        small_source,
        target,
        "--json",
        "--workers",
        "1",
        "--max-rows-per-second",
        "1500",
        "--no-validate",
        env=cli_env,
    )
    assert done.returncode == 0, done.stderr
    copy_seconds = last_json(done.stdout)["phases"]["copy"]
    assert copy_seconds >= 1.8  # 3,000 rows at 1,500 rows/s take two seconds at least
    assert time.monotonic() - started >= 1.8
