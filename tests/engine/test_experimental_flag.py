"""The `experimental_engine` flag gates the engine's experimental options (read_ahead): a job
asking for one is refused unless the flag is on for the user; copy, migrate and resume alike."""

from __future__ import annotations

import sqlite3

import pytest

from tests.governance.helpers import mapped_project
from workbench.engine.migrate import run_migration
from workbench.engine.run import CopyOptions, copy_database, resume_job
from workbench.errors import InvalidInputError, PermissionDeniedError
from workbench.store import flags, jobs


@pytest.fixture
def small_sqlite(tmp_path) -> str:
    path = tmp_path / "small.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO item VALUES (?, ?)", [(i, f"item {i}") for i in range(300)])
    return f"sqlite:///{path}"


DEEP = CopyOptions(read_ahead=8, workers=1, partition_rows=100)


def test_experimental_options_are_listed() -> None:
    assert CopyOptions().experimental() == []
    assert DEEP.experimental() == ["read_ahead"]
    with pytest.raises(InvalidInputError, match="read_ahead"):
        CopyOptions(read_ahead=0)


def test_copy_refuses_an_experimental_option_while_the_flag_is_off(store, small_sqlite, target_url):
    with pytest.raises(PermissionDeniedError) as refused:
        copy_database(small_sqlite, target_url, DEEP, store=store, project="exp")
    message = str(refused.value)
    assert "read_ahead=8" in message and "'experimental_engine'" in message
    assert f"workbench flag set experimental_engine on --user {store.user}" in message
    assert jobs.list_jobs(store) == []  # refused before a job exists


def test_copy_runs_it_once_the_flag_is_on_for_the_user(store, small_sqlite, target_url):
    flags.set_flag(store, "experimental_engine", enabled=True, users=[store.user], rollout=0)
    result = copy_database(small_sqlite, target_url, DEEP, store=store, project="exp")
    assert result.status == "succeeded" and result.rows_copied == 300 and result.validated
    assert jobs.get_job(store, result.job_id).parameters["options"]["read_ahead"] == 8
    # default options never need the flag
    flags.set_flag(store, "experimental_engine", enabled=False)
    plain = CopyOptions(workers=1, if_exists="replace")
    assert copy_database(small_sqlite, target_url, plain, store=store).status == "succeeded"


def test_migrate_and_resume_are_gated_too(store, small_sqlite, target_url):
    tables = {(None, "item", "shop", "items"): {"columns": {"id": "item_id", "name": "label"}}}
    mapped_project(store, "shop", small_sqlite, target_url, tables)
    with pytest.raises(PermissionDeniedError, match="experimental_engine"):
        run_migration("shop", store=store, options=DEEP)
    flags.set_flag(store, "experimental_engine", enabled=True)
    result = run_migration("shop", store=store, options=DEEP)
    assert result.status == "succeeded" and result.rows_copied == 300
    jobs.set_job_status(store, result.job_id, "failed", error="driver died")  # as if it had
    flags.set_flag(store, "experimental_engine", enabled=False)
    with pytest.raises(PermissionDeniedError, match="experimental_engine"):
        resume_job(result.job_id, store=store)
