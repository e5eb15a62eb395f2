"""Faults provoked for real: a killed Dask worker, a killed driver, a restarting target,
an unreachable source, a resume after the source schema changed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from tests.engine.helpers import count, make_numbers_table, rows
from tests.servers import free_port, start_private_postgres, stop_private_postgres
from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import CannotConnectError, MigrationError, ResumeRefusedError, WorkbenchError
from workbench.store import jobs

pytestmark = pytest.mark.slow  # servers killed and restarted mid-copy

N = 60_000


@pytest.fixture
def source_url(pg_server):
    name = pg_server.create_database("wbsrc")
    url = pg_server.url(name)
    make_numbers_table(url, N)
    yield url
    pg_server.drop_database(name)


def done_partitions(store, job_id: int) -> int:
    return sum(1 for c in jobs.job_checkpoints(store, job_id) if c["status"] == "done")


def wait_for(predicate, timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_killed_dask_worker_job_completes_exactly(source_url, target_url, store, dask_processes):
    from distributed import Client

    options = CopyOptions(
        dask_address=dask_processes, partition_rows=3_000, max_rows_per_second=20_000
    )
    job: dict = {}
    thread = threading.Thread(
        target=lambda: job.setdefault(
            "result",
            copy_database(
                source_url,
                target_url,
                options,
                store=store,
                on_job=lambda i: job.setdefault("id", i),
            ),
        ),
    )
    thread.start()
    wait_for(lambda: "id" in job and done_partitions(store, job["id"]) >= 2, what="two partitions")
    with Client(dask_processes) as client:
        pids = client.run(os.getpid)
        victim = next(iter(pids.values()))
        os.kill(victim, signal.SIGKILL)  # the worker process itself; its nanny starts a new one
    thread.join(180)
    result = job["result"]
    assert result.status == "succeeded" and result.validated
    assert rows(source_url, "numbers", "id") == rows(target_url, "numbers", "id")


def _cli(*args: str, env: dict) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "workbench"
    return subprocess.Popen(
        [str(exe), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_killed_driver_then_resume(source_url, target_url, store, dask_processes, tmp_path):
    env = {
        **os.environ,
        "WORKBENCH_DATABASE_URL": store.settings.database_url.reveal(),
        "WORKBENCH_DATA_DIR": str(store.settings.data_dir),
    }
    proc = _cli(
        "copy",
        source_url,
        target_url,
        "--dask",
        dask_processes,
        "--partition-rows",
        "3000",
        "--max-rows-per-second",
        "15000",
        "--json",
        env=env,
    )
    job_id = None
    for line in proc.stderr:
        if line.startswith("Job ") and "started" in line:
            job_id = int(line.split()[1])
            break
    assert job_id is not None
    wait_for(lambda: done_partitions(store, job_id) >= 3, what="three partitions")
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert jobs.get_job(store, job_id).status == "running"  # nobody marked it: the driver died
    resumed = _cli("copy", "--resume", str(job_id), "--json", "--dask", dask_processes, env=env)
    out, err = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["job_id"] == job_id and summary["status"] == "succeeded"
    assert summary["validated"] is True
    assert count(target_url, "numbers") == N
    assert rows(source_url, "numbers", "id") == rows(target_url, "numbers", "id")
    with psycopg.connect(target_url) as conn:
        skipped = conn.execute("SELECT count(*) FROM _workbench.checkpoints").fetchone()[0]
    assert skipped == summary["tables"]["public.numbers"]["partitions"]


def test_target_restart_mid_run_is_retried(source_url, store, tmp_path):
    target = start_private_postgres(Path("/tmp") / f"wbtgt-{os.getpid()}" / "data")
    try:
        url = target.url(target.create_database("t"))
        options = CopyOptions(workers=2, partition_rows=3_000, max_rows_per_second=20_000)
        job: dict = {}
        thread = threading.Thread(
            target=lambda: job.setdefault(
                "result",
                copy_database(
                    source_url, url, options, store=store, on_job=lambda i: job.setdefault("id", i)
                ),
            )
        )
        thread.start()
        wait_for(
            lambda: "id" in job and done_partitions(store, job["id"]) >= 2, what="two partitions"
        )
        target.stop()
        time.sleep(2)
        target.start()
        thread.join(240)
        result = job["result"]
        assert result.status == "succeeded" and result.validated
        assert rows(source_url, "numbers", "id") == rows(url, "numbers", "id")
        logs = [e.message for e in jobs.job_logs(store, result.job_id)]
        assert any("retried after" in m for m in logs), logs
    finally:
        stop_private_postgres(target)


def test_unreachable_source_fails_job_with_reason(target_url, store):
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    started = time.monotonic()
    with pytest.raises(CannotConnectError) as info:
        copy_database(dead, target_url, CopyOptions(), store=store)
    assert time.monotonic() - started < 30
    job = jobs.get_job(store, info.value.fields["job_id"])
    assert job.status == "failed"
    assert "127.0.0.1" in job.error


def test_resume_refused_when_source_schema_changed(source_url, target_url, store):
    # a job that stops half-way: its error budget is 0 and one transform rejects a row
    options = CopyOptions(
        workers=1,
        partition_rows=3_000,
        max_bad_rows=0,
        transforms={"numbers": {"label": {"cast": "int64"}}},
    )
    with pytest.raises(WorkbenchError) as info:
        copy_database(source_url, target_url, options, store=store)
    job_id = info.value.fields["job_id"]
    assert jobs.get_job(store, job_id).status == "failed"
    with psycopg.connect(source_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE numbers ADD COLUMN extra int")
    from workbench.engine.run import resume_job

    with pytest.raises(ResumeRefusedError, match="changed"):
        resume_job(job_id, store=store)
    assert isinstance(info.value, MigrationError)
