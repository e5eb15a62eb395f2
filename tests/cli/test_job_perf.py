"""`workbench job show N --perf` after a real copy: the figures come from what its partitions
measured (source wait vs write time), so each table is called source- or target-bound."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow  # runs copies of Chinook


def test_job_show_perf_after_a_copy(run, chinook_sqlite, target):
    done = run("copy", chinook_sqlite, target, "--partition-rows", "1000", "--json")
    job_id = json.loads(done.stdout.strip().splitlines()[-1])["job_id"]
    report = json.loads(run("job", "show", str(job_id), "--perf", "--json").stdout)
    assert set(report["phases"]) >= {"plan", "copy", "finish"}
    tables = {t["table"].split(".")[-1]: t for t in report["tables"]}
    track = tables["Track"]
    assert track["rows"] == 3503 and track["partitions"] == 4 and track["bytes"] > 100_000
    assert track["read_seconds"] > 0 and track["write_seconds"] > 0
    assert track["bound"] in ("source", "target", "balanced")
    assert track["rows_per_second"] == pytest.approx(3503 / track["seconds"])
    assert sum(t["rows"] for t in report["tables"]) == report["rows"] == 15607

    text = run("job", "show", str(job_id), "--perf").stdout
    assert text.startswith(f"Job {job_id} (succeeded): 15,607 rows in ")
    assert "BOUND BY" in text and "3,503" in text


def test_jobs_and_copy_read_for_people(run, chinook_sqlite, target):
    import re

    done = run("copy", chinook_sqlite, target, "--tables", "Genre")
    assert re.search(r"Genre\s+25\s+25\s+0\s+1\s+\d+\.\d\d s", done.stdout), done.stdout
    listed = run("jobs").stdout
    header, first = listed.splitlines()[:2]
    assert header.split()[:3] == ["ID", "PROJECT", "KIND"]
    assert " adhoc " in first and not re.search(r"\d\.\d{4,}", listed)  # no raw floats
