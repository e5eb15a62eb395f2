"""`workbench doctor` names the server settings that slow a load, with the value to use, and
stops naming one once the server is set so."""

from __future__ import annotations

import json

import psycopg
import pytest

from workbench.connectors import connect


@pytest.fixture
def tuned_later(pg_server):
    """The private server's settings are put back after the test (other tests share it)."""
    yield pg_server
    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM RESET max_wal_size")
        conn.execute("ALTER SYSTEM RESET maintenance_work_mem")
        conn.execute("SELECT pg_reload_conf()")


def _advice(run, project: str) -> dict[str, list[str]]:
    result = run("doctor", "--project", project, "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    checks = json.loads(result.stdout)["checks"]
    return {c["check"]: c.get("advice", []) for c in checks if c["check"].startswith("conn")}


def test_doctor_advises_on_load_settings(run, tuned_later, mysql_database):
    pg_server = tuned_later
    target = pg_server.url(pg_server.create_database("wbadvice"))
    run("project", "create", "tune")
    run("connection", "add", "tune", "target", target)
    run("connection", "add", "tune", "source", mysql_database)

    stock = _advice(run, "tune")["connection target"]
    assert any(a.startswith("max_wal_size is 1GB:") and "'4GB'" in a for a in stock), stock
    assert any(a.startswith("maintenance_work_mem is 64MB:") for a in stock), stock
    assert any(a.startswith("shared_buffers is 128MB:") for a in stock), stock
    human = run("doctor", "--project", "tune")
    assert "tip   connection target: max_wal_size is 1GB" in human.stdout

    source = connect(mysql_database)
    pool = int(source.run("SELECT @@innodb_buffer_pool_size")[0][0])
    source.close()
    on_source = _advice(run, "tune")["connection source"]
    assert bool(on_source) == (pool < 1 << 30)  # the machine's own server, left as it is
    assert all(a.startswith("innodb_buffer_pool_size is ") for a in on_source)

    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET max_wal_size = '8GB'")
        conn.execute("ALTER SYSTEM SET maintenance_work_mem = '1GB'")
        conn.execute("SELECT pg_reload_conf()")
    tuned = _advice(run, "tune")["connection target"]
    assert [a.split(" ", 1)[0] for a in tuned] == ["shared_buffers"]  # needs a restart


def test_index_builds_get_their_memory(pg_server):
    from workbench.engine.targets import INDEX_MEMORY

    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        assert conn.execute("SHOW maintenance_work_mem").fetchone()[0] == "64MB"
        conn.execute(INDEX_MEMORY)
        assert conn.execute("SHOW maintenance_work_mem").fetchone()[0] == "256MB"
        conn.execute("SET maintenance_work_mem = '2GB'")
        conn.execute(INDEX_MEMORY)  # more than 256MB is kept
        assert conn.execute("SHOW maintenance_work_mem").fetchone()[0] == "2GB"


def test_doctor_checks_each_workers_versions(run, monkeypatch):
    """Workers must run the driver's workbench: the shared cluster's do; a driver at another
    version is told which worker differs and what to install."""
    ok = run("doctor", "--json")
    dask = next(c for c in json.loads(ok.stdout)["checks"] if c["check"] == "dask")
    assert dask["ok"] and "2 workers, each with workbench" in dask["detail"], dask

    from workbench.engine import cluster

    real = cluster.installed_versions()
    monkeypatch.setattr(cluster, "installed_versions", lambda: {**real, "workbench": "9.9.9"})
    bad = run("doctor", "--json")
    assert bad.exit_code == 1
    dask = next(c for c in json.loads(bad.stdout)["checks"] if c["check"] == "dask")
    assert not dask["ok"]
    assert f"has workbench {real['workbench']} (driver: 9.9.9)" in dask["detail"]
    assert "pip install workbench==9.9.9" in dask["detail"]
    assert dask["detail"].count("worker tcp://") == 2  # each worker named


def test_doctor_has_every_worker_open_each_connection(run, shared_dask, chinook_sqlite):
    run("project", "create", "reach")
    run("connection", "add", "reach", "src", chinook_sqlite)
    done = run("doctor", "--project", "reach", "--dask", shared_dask, "--json")
    checks = {c["check"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["workers reach src"]["ok"], checks
    assert checks["workers reach src"]["detail"] == "each of 2 workers opened it"
