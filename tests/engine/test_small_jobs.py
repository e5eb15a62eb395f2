"""Small jobs run on threads of the driver, without starting a cluster; bigger ones (or any job
given a Dask address) run on Dask. Either way the copy is exact and validated."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy.engine import make_url

import workbench.engine.repair as repair_module
import workbench.engine.run as run_module
from workbench.connectors.sqlite import SQLiteConnector
from workbench.engine.repair import validate_job
from workbench.engine.run import CopyOptions, copy_database
from workbench.store import jobs

pytestmark = pytest.mark.local_cluster  # no shared scheduler address: the job chooses


def _counts_equal(sqlite_url: str, target_url: str) -> int:
    source = sqlite3.connect(make_url(sqlite_url).database)
    names = [r[0] for r in source.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    total = 0
    with psycopg.connect(target_url) as conn:
        for name in names:
            want = source.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            got = conn.execute(f'SELECT count(*) FROM public."{name}"').fetchone()[0]
            assert got == want, name
            total += got
    return total


def test_a_small_job_starts_no_cluster(chinook_sqlite, target_url, store, monkeypatch):
    started = []

    class NoCluster:
        def __init__(self, *args, **kwargs):
            started.append(args)
            raise AssertionError("a 15,000-row job should not start a cluster")

    monkeypatch.setattr(run_module, "BackgroundClient", NoCluster)
    result = copy_database(chinook_sqlite, target_url, CopyOptions(), store=store)
    assert result.status == "succeeded" and result.validated
    assert started == []
    assert 15_000 < _counts_equal(chinook_sqlite, target_url) <= run_module.SMALL_JOB_ROWS
    stats = jobs.get_job(store, result.job_id).statistics
    assert stats.get("dask_dashboard") is None


@pytest.mark.slow  # starts a local cluster
def test_a_job_above_the_small_size_gets_its_cluster(
    chinook_sqlite, target_url, store, monkeypatch
):
    monkeypatch.setattr(run_module, "SMALL_JOB_ROWS", 100)
    # rows SQLite renders as COPY text, or connectorx reads, stay in native code and never
    # need a cluster: these are read a row at a time (the plan, made here, counts them so)
    monkeypatch.setattr(SQLiteConnector, "can_copy_text", lambda self, table, fields: False)
    monkeypatch.setattr(SQLiteConnector, "reads_natively", lambda self, table: False)
    result = copy_database(chinook_sqlite, target_url, CopyOptions(workers=1), store=store)
    assert result.status == "succeeded" and result.validated
    _counts_equal(chinook_sqlite, target_url)
    stats = jobs.get_job(store, result.job_id).statistics
    assert str(stats.get("dask_dashboard", "")).startswith("http://127.0.0.1:")


@pytest.mark.slow  # starts a local cluster
def test_a_callers_client_is_used_and_left_open(chinook_sqlite, target_url, store, monkeypatch):
    """A notebook's own Client (here one to a cluster the test starts) runs the job, small as
    it is, and is still usable afterwards: the job neither starts a cluster nor closes it."""
    from distributed import Client, LocalCluster

    monkeypatch.setattr(run_module, "BackgroundClient", None)  # any cluster start would fail
    with (
        LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
                     dashboard_address="127.0.0.1:0") as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        result = copy_database(
            chinook_sqlite, target_url, CopyOptions(), store=store, client=client
        )
        assert result.status == "succeeded" and result.validated
        stats = jobs.get_job(store, result.job_id).statistics
        assert stats["dask_dashboard"] == client.dashboard_link
        assert client.submit(sum, [1, 2]).result() == 3  # still open
        events = [e.message for e in jobs.job_logs(store, result.job_id)]
        assert any("at most 2 partitions at once (2 task slots" in e for e in events), events
        # a repair re-copies on the caller's client too (no cluster of its own)
        monkeypatch.setattr(repair_module, "dask_client", None)
        with psycopg.connect(target_url, autocommit=True) as conn:
            conn.execute('UPDATE public."Artist" SET "Name" = \'changed\' WHERE "ArtistId" = 1')
        report = validate_job(result.job_id, store=store, repair=True, client=client)
        # (failed once in CI under the full suite's load, not since: say what differed)
        assert report.ok, report.as_dict()
        assert client.submit(sum, [2, 3]).result() == 5
    _counts_equal(chinook_sqlite, target_url)


@pytest.mark.slow  # a local cluster of processes
def test_a_job_cancelled_on_a_callers_client_resumes_on_it(chinook_sqlite, target_url, store):
    """Cancelled half-way on a notebook's own client, then resumed on the same client: it
    copies what was not committed and validates, and the client stays open. (The resume's
    own task keys guard against the first run's keys still being held; this run does not
    reproduce that case: it passes with the copy's keys too.)"""
    import threading
    import time

    from distributed import Client, LocalCluster

    from workbench.engine.run import resume_job
    from workbench.errors import JobCancelledError

    cancel = threading.Event()
    job: dict = {}
    with (
        LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
                     dashboard_address="127.0.0.1:0") as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        options = CopyOptions(partition_rows=300, max_rows_per_second=3_000)

        def run() -> None:
            try:
                copy_database(chinook_sqlite, target_url, options, store=store, client=client,
                              cancel=cancel, on_job=lambda i: job.setdefault("id", i))  # fmt: skip
            except JobCancelledError as exc:
                job["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 60
        while "id" not in job or not jobs.job_checkpoints(store, job["id"]):
            assert time.monotonic() < deadline, "no partition committed"
            time.sleep(0.1)
        cancel.set()
        thread.join(60)
        assert "error" in job and jobs.get_job(store, job["id"]).status == "cancelled"
        result = resume_job(job["id"], store=store, client=client)
        assert result.status == "succeeded" and result.validated, result.summary()
        assert client.submit(sum, [1, 2]).result() == 3  # still open
    assert _counts_equal(chinook_sqlite, target_url) == 15607


def test_a_big_job_in_native_code_runs_on_threads(mysql_server, target_url, store, monkeypatch):
    """Rows passed as COPY text, or read into Arrow natively and copied as read, stay in
    native code: threads serve them at any size. Only rows a transform or mask handles in
    Python (here an upper-cased column) count towards a cluster."""
    from tests.engine.helpers import mysql_tables
    from workbench.connectors import connect
    from workbench.engine.plan import general_rows, plan_job

    with mysql_tables(
        mysql_server,
        "wbthreads",
        "CREATE TABLE plain (id int PRIMARY KEY, note varchar(20), d date)",
        "INSERT INTO plain SELECT seq, CONCAT('n', seq), '2024-01-01' FROM seq_1_to_3000",
        "CREATE TABLE floats (id int PRIMARY KEY, x float)",  # the general path, as read
        "INSERT INTO floats SELECT seq, seq / 3 FROM seq_1_to_700",
        "CREATE TABLE shouted (id int PRIMARY KEY, tag varchar(10))",
        "INSERT INTO shouted SELECT seq, CONCAT('t', seq) FROM seq_1_to_500",
    ) as (name, url):
        options = CopyOptions(transforms={"shouted": {"tag": {"case": "upper"}}})
        source = connect(url)
        try:
            plan = plan_job(source, options, "k", None)
            rows = {tp.source.name: tp.row_estimate for tp in plan.tables}
            assert general_rows(source, plan.tables, lambda tp: tp.row_estimate or 0) == (
                rows["shouted"] or 0
            )
            plain = CopyOptions()
            assert (
                general_rows(source, plan_job(source, plain, "k", None).tables, lambda tp: 1) == 0
            )
        finally:
            source.close()

        class NoCluster:
            def __init__(self, *args, **kwargs):
                raise AssertionError("rows in native code should not start a cluster")

        monkeypatch.setattr(run_module, "BackgroundClient", NoCluster)
        monkeypatch.setattr(run_module, "SMALL_JOB_ROWS", 1000)  # 4,200 rows in all
        result = copy_database(url, target_url, options, store=store)
        assert result.status == "succeeded" and result.validated
        assert result.tables[f"{name}.plain"]["partitions_as_text"] == 1
        assert not result.tables[f"{name}.floats"].get("partitions_as_text")
        assert result.rows_copied == 4200
        with psycopg.connect(target_url) as conn:
            tags = conn.execute(f'SELECT min(tag), max(tag) FROM "{name}".shouted').fetchone()
        assert tags == ("T1", "T99")
