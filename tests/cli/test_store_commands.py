"""`workbench init`, `doctor` and `audit`: output shapes, idempotence, failing checks."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.cli.conftest import run_process
from tests.servers import free_port
from tests.store.conftest import embedded_data_dir
from workbench.config import load_settings
from workbench.store.embedded import stop_embedded
from workbench.store.revisions import head_revision

INIT_KEYS = {
    "action",
    "store",
    "embedded",
    "pgdata",
    "revision",
    "previous_revision",
    "key",
    "user",
    "organization",
    "role",
    "works_as",
}


def test_init_creates_then_reports_current(run, cli_env):
    first = run("init", "--json")
    assert first.exit_code == 0, first.stderr
    data = json.loads(first.stdout)
    assert set(data) == INIT_KEYS
    assert (data["action"], data["revision"], data["previous_revision"]) == (
        "created",
        head_revision(),
        None,
    )
    assert data["embedded"] is False and data["pgdata"] is None and data["user"] == "tester"
    assert data["key"].startswith("key file ") and data["key"].endswith("secret.key")
    # the first user owns the default organization; the work runs as the application role
    assert (data["organization"], data["role"]) == ("default", "owner")
    assert data["works_as"].endswith("_workbench_app")
    second = run("init")
    assert second.exit_code == 0
    assert second.stdout.startswith(
        f"Checked the metadata store (schema revision {head_revision()})"
    )
    assert json.loads(run("init", "--json").stdout)["action"] == "current"


@pytest.mark.local_cluster  # doctor starts a local cluster when no scheduler is set
def test_doctor_checks_store_dask_and_each_connection(run):
    run("project", "create", "shop")
    run("connection", "add", "shop", "self", load_settings().database_url.reveal())
    port = free_port()
    run("connection", "add", "shop", "gone", f"postgresql://u:Doc-Pw@127.0.0.1:{port}/x")
    result = run("doctor", "--project", "shop", "--json")
    assert result.exit_code == 1  # one connection is down
    report = json.loads(result.stdout)
    checks = {c["check"]: c for c in report["checks"]}
    assert report["ok"] is False
    assert list(checks) == [
        "store",
        "secrets",
        "dask",
        "project",
        "connection gone",
        "connection self",
    ]
    for name in ("store", "secrets", "dask", "project", "connection self"):
        assert checks[name]["ok"], checks[name]
    assert "schema revision" in checks["store"]["detail"]
    assert "local cluster" in checks["dask"]["detail"]
    gone = checks["connection gone"]
    assert not gone["ok"] and "Cannot connect" in gone["detail"] and "Doc-Pw" not in result.stdout
    human = run("doctor", "--project", "nope")
    assert human.exit_code == 1
    assert "ok    store:" in human.stdout and "FAIL  project: No project 'nope'" in human.stdout


def test_doctor_fails_on_an_empty_store_and_a_missing_scheduler(run, monkeypatch):
    import socket

    # a port held (bound, not listening) for the whole test: refused, and no other test's
    # server can take it meanwhile (a free_port() can be reused by a parallel worker)
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    monkeypatch.setenv("WORKBENCH_DASK_ADDRESS", f"tcp://127.0.0.1:{held.getsockname()[1]}")
    monkeypatch.setenv("WORKBENCH_CONNECT_TIMEOUT", "2")
    with held:
        result = run("doctor", "--json")
    assert result.exit_code == 1
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert list(checks) == ["store", "dask"]
    assert not checks["store"]["ok"] and "run `workbench init`" in checks["store"]["detail"]
    assert not checks["dask"]["ok"]


def test_audit_lists_changes_newest_first(run):
    run("project", "create", "shop")
    run("connection", "add", "shop", "src", "mysql://app:Audit-Pw@db1/shop")
    run("project", "archive", "shop")
    result = run("audit", "--project", "shop", "--json")
    assert result.exit_code == 0
    events = json.loads(result.stdout)
    assert [e["action"] for e in events] == ["project.archive", "connection.add", "project.create"]
    assert set(events[0]) == {
        "id",
        "at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_name",
        "project_id",
        "details",
    }
    assert {e["actor"] for e in events} == {"tester"}
    assert events[1]["details"]["url"] == "mysql://app@db1/shop"
    human = run("audit", "--project", "shop", "--limit", "1")
    assert "project.archive" in human.stdout and "connection.add" not in human.stdout
    assert "Audit-Pw" not in result.stdout + human.stdout


@pytest.mark.slow
def test_demo_commands_on_the_embedded_store():
    """What `make demo` runs: init twice and doctor, as processes, on the embedded default."""
    data_dir = embedded_data_dir()
    env = {"WORKBENCH_DATA_DIR": str(data_dir), "WORKBENCH_USER": "tester"}
    try:
        first = run_process("init", "--json", env=env)
        assert first.returncode == 0, first.stderr[-4000:]
        data = json.loads(first.stdout)
        assert data["embedded"] is True and data["action"] == "created"
        assert data["pgdata"].endswith("pgdata")
        again = run_process("init", "--json", env=env)
        assert json.loads(again.stdout)["action"] == "current"
        doctor = run_process("doctor", env=env)
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert "ok    store:" in doctor.stdout and "(embedded)" in doctor.stdout
        assert "ok    dask:" in doctor.stdout
    finally:
        stop_embedded(load_settings(data_dir=data_dir))
        shutil.rmtree(data_dir.parent, ignore_errors=True)


def test_init_refuses_a_store_from_a_newer_workbench(run, store_url):
    from sqlalchemy import create_engine, text

    from workbench.store.database import store_url as engine_url
    from workbench.store.revisions import VERSION_TABLE

    assert run("init").exit_code == 0
    engine = create_engine(engine_url(store_url))
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0999'"))
    engine.dispose()
    result = run("init")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: The store's schema is at revision '0999'")
    assert "newer workbench" in result.stderr and result.stderr.count("\n") == 1
