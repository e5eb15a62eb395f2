"""Recurring jobs: a scheduled validation runs on time, again and again, as jobs; two
schedulers against one store start each run once; fire times nobody ran are reported missed;
a scheduled copy is a copy job. Real schedulers (threads here, and `workbench scheduler`
processes), a real store, real copies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from workbench.engine.options import CopyOptions
from workbench.engine.run import copy_database
from workbench.errors import InvalidInputError, PermissionDeniedError
from workbench.scheduler import Scheduler, latest_fire_time
from workbench.store import connections, jobs, projects
from workbench.store import schedules as stored
from workbench.store.schedules import create_schedule, list_schedules, schedule_runs

pytestmark = [pytest.mark.slow, pytest.mark.local_cluster]

EVERY_2S = "*/2 * * * * *"


@pytest.fixture
def target_url(pg_server):
    name = pg_server.create_database("wbsched")
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture
def copied(store, chinook_sqlite, target_url) -> int:
    projects.create_project(store, "shop")
    result = copy_database(chinook_sqlite, target_url, CopyOptions(tables=("Genre",)),
                           store=store, project="shop")  # fmt: skip
    return result.job_id


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _finished(store, name: str) -> list[dict]:
    return [r for r in schedule_runs(store, "shop", name) if r["status"] != "started"]


def test_a_scheduled_validation_runs_on_time_twice(store, copied):
    create_schedule(store, "shop", "nightly", EVERY_2S, validate_job=copied)
    service = Scheduler(store, poll=0.5, grace=10)
    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        _wait(lambda: len(_finished(store, "nightly")) >= 2, 30, "two runs")
    finally:
        service.stop.set()
        thread.join(30)
    runs = _finished(store, "nightly")[:2]
    assert [r["status"] for r in runs] == ["succeeded", "succeeded"], runs
    fired = [r["fire_time"] for r in schedule_runs(store, "shop", "nightly")]
    from datetime import datetime

    times = [datetime.fromisoformat(t) for t in fired]
    assert all(t.second % 2 == 0 and t.microsecond == 0 for t in times)
    assert times[1] - times[0] == timedelta(seconds=2)
    for run in runs:  # each run is a job of its own, started on time, with its report
        started = datetime.fromisoformat(run["started_at"])
        assert (
            timedelta(0)
            <= started - datetime.fromisoformat(run["fire_time"])
            < timedelta(seconds=2)
        )
        job = jobs.get_job(store, run["job_id"])
        assert job.kind == "validate" and job.status == "succeeded"
        assert job.parameters["validates"] == copied
        assert job.statistics["validation"]["ok"] is True
    [listed] = list_schedules(store, "shop")
    assert listed.runs >= 2 and listed.failed == 0 and listed.last_job_id is not None


def _scheduler_process(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "workbench"), "scheduler", "--poll", "0.5",
         "--grace", "10"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_two_schedulers_start_each_run_once(store, store_url, copied):
    create_schedule(store, "shop", "twice-watched", EVERY_2S, validate_job=copied)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env |= {"WORKBENCH_DATABASE_URL": store_url, "WORKBENCH_USER": "tester",
            "WORKBENCH_DATA_DIR": str(store.settings.data_dir)}  # fmt: skip
    first, second = _scheduler_process(env), _scheduler_process(env)
    try:
        _wait(lambda: len(_finished(store, "twice-watched")) >= 4, 60, "four runs")
    finally:
        for proc in (first, second):
            proc.send_signal(signal.SIGTERM)
        for proc in (first, second):
            proc.wait(60)
    runs = schedule_runs(store, "shop", "twice-watched")
    assert all(r["status"] in ("succeeded", "started") for r in runs), runs
    fire_times = [r["fire_time"] for r in runs]
    assert len(fire_times) == len(set(fire_times))
    validations = [j for j in jobs.list_jobs(store, "shop", limit=500) if j.kind == "validate"]
    assert sorted(j.id for j in validations) == sorted(r["job_id"] for r in runs if r["job_id"])
    assert len({r["scheduler"] for r in runs}) >= 1
    assert first.returncode == 0 and second.returncode == 0


def test_fire_times_nobody_ran_are_reported_missed(store, copied):
    create_schedule(store, "shop", "unattended", EVERY_2S, validate_job=copied)
    time.sleep(6)  # no scheduler runs: three fire times pass
    service = Scheduler(store, poll=0.5, grace=1)
    service.sync()  # what a scheduler does first: schedule, and record what was missed
    service.admin.dispose()
    runs = schedule_runs(store, "shop", "unattended")
    assert len(runs) >= 2 and all(r["status"] == "missed" for r in runs), runs
    assert "grace" in runs[0]["error"]
    [listed] = list_schedules(store, "shop")
    assert listed.missed == len(runs) and listed.runs == 0


def test_a_scheduled_copy_is_a_copy_job(store, chinook_sqlite, target_url):
    projects.create_project(store, "shop")
    connections.add_connection(store, "shop", "src", chinook_sqlite)
    connections.add_connection(store, "shop", "tgt", target_url, role="target")
    create_schedule(store, "shop", "refresh", EVERY_2S, source="src", target="tgt",
                    options={"tables": ["Genre", "MediaType"], "if_exists": "replace"})  # fmt: skip
    refused = Scheduler(store, poll=0.5, grace=10)  # the scheduler's disk: not by default
    with pytest.raises(PermissionDeniedError, match="path on the scheduler's machine"):
        refused._copy(store, stored.load(store, list_schedules(store, "shop")[0].id), 0, {})
    refused.admin.dispose()
    folder = Path(chinook_sqlite.removeprefix("sqlite:///")).parent
    service = Scheduler(store, poll=0.5, grace=10, files_under=(folder,))
    thread = threading.Thread(target=service.run)
    thread.start()
    try:
        _wait(lambda: len(_finished(store, "refresh")) >= 1, 30, "a copy")
    finally:
        service.stop.set()
        thread.join(60)
    run = _finished(store, "refresh")[0]
    assert run["status"] == "succeeded", run
    job = jobs.get_job(store, run["job_id"])
    assert job.kind == "copy" and job.status == "succeeded"
    assert job.statistics["rows_copied"] == 25 + 5


def test_bad_schedules_are_refused_with_the_fix(store, copied):
    with pytest.raises(InvalidInputError, match="does not take"):
        create_schedule(store, "shop", "x", "0 2 * * *", source="a", target="b",
                        options={"after_sql": ["DROP TABLE t"]})  # fmt: skip
    with pytest.raises(InvalidInputError, match="5 fields"):
        create_schedule(store, "shop", "x", "every night", validate_job=copied)
    with pytest.raises(InvalidInputError, match="not valid"):
        create_schedule(store, "shop", "x", "61 * * * *", validate_job=copied)
    with pytest.raises(InvalidInputError, match="give one of them"):
        create_schedule(store, "shop", "x", "0 2 * * *")


def test_the_latest_fire_time_is_the_same_for_every_scheduler():
    from datetime import UTC, datetime

    now = datetime(2026, 12, 6, 2, 0, 7, 300_000, tzinfo=UTC)
    assert latest_fire_time(EVERY_2S, now) == now.replace(second=6, microsecond=0)
    assert latest_fire_time("0 2 * * *", now) == now.replace(minute=0, second=0, microsecond=0)
    assert latest_fire_time("0 3 1 * *", now) == datetime(2026, 12, 1, 3, tzinfo=UTC)


def test_a_schedule_whose_user_left_is_said_once_and_the_others_still_run(store, copied, caplog):
    """A schedule made by someone who has since left the organization cannot run as them:
    the scheduler says so once (not at every pass), does not schedule it, and the other
    schedules are scheduled and run all the same."""
    from workbench.store import open_store, organizations

    organizations.add_member(store, "leaver", "editor")
    theirs = open_store(store.settings.with_(user="leaver"), create_user=False)
    create_schedule(theirs, "shop", "theirs", EVERY_2S, validate_job=copied)
    theirs.close()
    organizations.remove_member(store, "leaver")
    create_schedule(store, "shop", "mine", EVERY_2S, validate_job=copied)
    service = Scheduler(store, poll=0.5, grace=10)
    thread = threading.Thread(target=service.run, daemon=True)
    with caplog.at_level("WARNING", logger="workbench.scheduler"):
        thread.start()
        try:
            _wait(lambda: len(_finished(store, "mine")) >= 2, 30, "two runs of mine")
        finally:
            service.stop.set()
            thread.join(30)
    said = [r.getMessage() for r in caplog.records if "shop/theirs cannot run" in r.getMessage()]
    assert len(said) == 1, said  # once, though the scheduler passed over it many times
    assert all(r["status"] == "succeeded" for r in _finished(store, "mine"))
    assert not [r for r in schedule_runs(store, "shop", "theirs") if r["status"] != "missed"]
