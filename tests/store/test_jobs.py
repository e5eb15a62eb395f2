"""Migration jobs as the engine records them, including calls from many threads at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pytest

from workbench.errors import InvalidInputError, NotFoundError
from workbench.store import audit, connections, jobs, projects


@pytest.fixture
def project(store):
    return projects.create_project(store, "shop")


def test_job_status_sets_timestamps(store, project):
    src = connections.add_connection(store, "shop", "src", "sqlite:///a.db")
    job_id = jobs.create_job(
        store, project.id, "migrate", {"tables": ["film"]}, "fp-1", source_connection_id=src.id
    )
    job = jobs.get_job(store, job_id)
    assert (job.status, job.kind, job.fingerprint, job.created_by) == (
        "pending",
        "migrate",
        "fp-1",
        "tester",
    )
    assert (
        job.started_at is None and job.statistics == {} and job.parameters == {"tables": ["film"]}
    )

    jobs.set_job_status(store, job_id, "running")
    running = jobs.get_job(store, job_id)
    assert running.started_at is not None and running.finished_at is None
    assert running.heartbeat_at is not None and not running.is_terminal

    jobs.set_job_status(store, job_id, "failed", error="disk full")
    failed = jobs.get_job(store, job_id)
    assert failed.finished_at >= failed.started_at and failed.error == "disk full"
    assert failed.is_terminal

    jobs.set_job_status(store, job_id, "running")  # a resume clears the old end
    resumed = jobs.get_job(store, job_id)
    assert resumed.finished_at is None and resumed.error is None
    jobs.set_job_status(store, job_id, "succeeded")
    assert jobs.get_job(store, job_id).status == "succeeded"

    jobs.set_job_status(store, job_id, "cancelled")
    actions = [e.action for e in audit.list_events(store, "shop")]
    assert actions[:2] == ["job.cancel", "job.create"]


def test_statistics_merge_and_bump_the_heartbeat(store, project):
    job_id = jobs.create_job(store, project.id, "copy", {})
    jobs.update_job_statistics(store, job_id, {"rows": 10, "tables": {"film": 10}})
    first = jobs.get_job(store, job_id)
    jobs.update_job_statistics(store, job_id, {"bytes": 2048, "rows": 25})
    second = jobs.get_job(store, job_id)
    assert second.statistics == {"rows": 25, "bytes": 2048, "tables": {"film": 10}}
    assert second.heartbeat_at >= first.heartbeat_at


def test_logs_in_order_and_since_an_id(store, project):
    job_id = jobs.create_job(store, project.id, "copy", {})
    ids = [
        jobs.log_event(store, job_id, "info", "started"),
        jobs.log_event(store, job_id, 30, "slow table", table="film", rows=3),
        jobs.log_event(store, job_id, "warn", "retrying", when=datetime(2024, 1, 2)),
    ]
    logs = jobs.job_logs(store, job_id)
    assert [(r.level, r.message) for r in logs] == [
        ("INFO", "started"),
        ("WARNING", "slow table"),
        ("WARNING", "retrying"),
    ]
    assert logs[1].context == {"table": "film", "rows": 3}
    assert logs[2].context == {"when": "2024-01-02T00:00:00"}
    assert [r.id for r in jobs.job_logs(store, job_id, since_id=ids[0])] == ids[1:]
    assert logs[0].at.tzinfo is not None
    with pytest.raises(InvalidInputError, match="log level"):
        jobs.log_event(store, job_id, "loud", "x")


def test_checkpoints_upsert_only_the_given_columns(store, project):
    job_id = jobs.create_job(store, project.id, "copy", {})
    jobs.upsert_checkpoints(
        store,
        job_id,
        [
            {
                "table_name": "film",
                "partition_index": i,
                "lower": [i * 100],
                "upper": [i * 100 + 100],
            }
            for i in range(3)
        ]
        + [{"table_name": "actor", "partition_index": 0, "lower": None, "upper": None}],
    )
    started = datetime(2024, 5, 1, tzinfo=UTC)
    jobs.upsert_checkpoints(
        store,
        job_id,
        [
            {
                "table_name": "film",
                "partition_index": 1,
                "status": "running",
                "started_at": started,
            },
            {
                "table_name": "film",
                "partition_index": 0,
                "status": "done",
                "rows_read": 100,
                "rows_written": 99,
                "rows_quarantined": 1,
                "bytes": 5000,
                "attempts": 2,
                "checksum": "abc",
            },
        ],
    )
    rows = {(r["table_name"], r["partition_index"]): r for r in jobs.job_checkpoints(store, job_id)}
    assert list(rows) == [("actor", 0), ("film", 0), ("film", 1), ("film", 2)]
    assert rows["film", 0]["status"] == "done" and rows["film", 0]["rows_written"] == 99
    assert rows["film", 0]["lower"] == [0] and rows["film", 0]["upper"] == [100]  # kept
    assert rows["film", 1]["status"] == "running" and rows["film", 1]["started_at"] == started
    assert rows["film", 2]["status"] == "pending" and rows["film", 2]["rows_read"] == 0
    # bounds of any JSON-able type, e.g. dates of a keyset partition
    jobs.upsert_checkpoints(
        store,
        job_id,
        [{"table_name": "rental", "partition_index": 0, "lower": (date(2005, 5, 24), 7)}],
    )
    rental = [r for r in jobs.job_checkpoints(store, job_id) if r["table_name"] == "rental"]
    assert rental[0]["lower"] == ["2005-05-24", 7]
    with pytest.raises(InvalidInputError, match="table_name and partition_index"):
        jobs.upsert_checkpoints(store, job_id, [{"table_name": "film"}])
    with pytest.raises(InvalidInputError, match="checkpoint status"):
        jobs.upsert_checkpoints(
            store, job_id, [{"table_name": "film", "partition_index": 0, "status": "meh"}]
        )


def test_list_jobs_newest_first(store, project):
    ids = [jobs.create_job(store, project.id, "copy", {"n": n}) for n in range(3)]
    other = projects.create_project(store, "other")
    other_id = jobs.create_job(store, other.id, "validate", {})
    assert [j.id for j in jobs.list_jobs(store, "shop")] == ids[::-1]
    assert [j.id for j in jobs.list_jobs(store, project.id, limit=2)] == ids[:0:-1]
    assert jobs.list_jobs(store)[0].id == other_id
    assert len(jobs.list_jobs(store)) == 4


def test_missing_jobs_and_bad_input(store, project):
    for call in (
        lambda: jobs.get_job(store, 999999),
        lambda: jobs.set_job_status(store, 999999, "running"),
        lambda: jobs.update_job_statistics(store, 999999, {"rows": 1}),
        lambda: jobs.log_event(store, 999999, "info", "x"),
        lambda: jobs.upsert_checkpoints(store, 999999, [{"table_name": "t", "partition_index": 0}]),
    ):
        with pytest.raises(NotFoundError, match="No migration job 999999"):
            call()
    with pytest.raises(InvalidInputError, match="kind"):
        jobs.create_job(store, project.id, "teleport", {})
    with pytest.raises(InvalidInputError, match="status"):
        jobs.set_job_status(store, 1, "paused")
    with pytest.raises(NotFoundError, match="connection id"):
        jobs.create_job(store, project.id, "copy", {}, source_connection_id=999999)
    with pytest.raises(NotFoundError, match="No project"):
        jobs.create_job(store, 999999, "copy", {})


def test_secrets_never_reach_job_rows(store, project):
    job_id = jobs.create_job(
        store, project.id, "copy", {"source": "mysql://a:Job-Pw@h/db", "password": "Job-Pw"}
    )
    jobs.log_event(store, job_id, "error", "lost mysql://a:Job-Pw@h/db", api_token="Job-Pw")
    jobs.set_job_status(store, job_id, "failed", error="mysql://a:Job-Pw@h/db refused")
    job = jobs.get_job(store, job_id)
    shown = repr(job) + repr(jobs.job_logs(store, job_id))
    assert "Job-Pw" not in shown and "mysql://a:***@h/db" in shown


def test_many_threads_record_at_once(store, project):
    job_id = jobs.create_job(store, project.id, "copy", {})
    jobs.set_job_status(store, job_id, "running")

    def partition(i: int) -> None:
        jobs.upsert_checkpoints(
            store, job_id, [{"table_name": "t", "partition_index": i, "status": "running"}]
        )
        jobs.log_event(store, job_id, "info", f"partition {i}", partition=i)
        jobs.update_job_statistics(store, job_id, {f"p{i}": i})
        jobs.upsert_checkpoints(
            store, job_id, [{"table_name": "t", "partition_index": i, "status": "done"}]
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(partition, range(40)))
    assert {r["status"] for r in jobs.job_checkpoints(store, job_id)} == {"done"}
    assert len(jobs.job_checkpoints(store, job_id)) == 40
    assert len(jobs.job_logs(store, job_id)) == 40
    assert jobs.get_job(store, job_id).statistics == {f"p{i}": i for i in range(40)}
