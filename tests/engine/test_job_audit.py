"""Runs join the audit trail: job.create (store), job.start and job.finish (engine) with the
status, rows, duration and error; a cancel stays job.cancel (no second end event)."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import AlreadyExistsError
from workbench.store.audit import list_events


@pytest.fixture
def source(tmp_path) -> str:
    path = tmp_path / "audit.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE thing (id INTEGER PRIMARY KEY, label TEXT)")
        conn.executemany("INSERT INTO thing VALUES (?, ?)", [(i, f"t{i}") for i in range(120)])
    return f"sqlite:///{path}"


def job_events(store, job_id: int) -> list:
    events = [
        e
        for e in list_events(store, "audited")
        if e.object_type == "migration_job" and e.object_id == job_id
    ]
    return sorted(events, key=lambda e: e.id)


def test_a_run_is_audited_from_start_to_finish(store, source, target_url):
    result = copy_database(
        source, target_url, CopyOptions(workers=1), store=store, project="audited"
    )
    created, started, lineage, finished = job_events(store, result.job_id)
    assert [created.action, started.action, lineage.action, finished.action] == [
        "job.create", "job.start", "lineage.record", "job.finish",
    ]  # fmt: skip
    assert started.actor == finished.actor == store.user
    assert started.details["resume"] is False and started.details["source"] == source
    assert finished.details["status"] == "succeeded" and finished.details["validated"] is True
    assert finished.details["rows_copied"] == 120 and finished.details["rows_read"] == 120
    assert finished.details["seconds"] > 0 and started.at <= finished.at


def test_a_failed_run_is_audited_with_its_error(store, source, target_url):
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA audit; CREATE TABLE audit.thing (id int)")
    options = CopyOptions(workers=1, target_schema="audit")  # if_exists=fail
    with pytest.raises(AlreadyExistsError) as failed:
        copy_database(source, target_url, options, store=store, project="audited")
    job_id = failed.value.fields["job_id"]
    actions = [e.action for e in job_events(store, job_id)]
    assert actions == ["job.create", "job.start", "lineage.record", "job.finish"]
    finish = job_events(store, job_id)[-1]
    assert finish.details["status"] == "failed" and finish.details["rows_copied"] == 0
    assert "already exist" in finish.details["error"]
