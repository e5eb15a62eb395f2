"""The whole flow by the API only: project -> connections -> profile -> match -> accept ->
migrate -> watch -> validate; cancelling a job here or one run elsewhere; readiness while the
store is down."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import psycopg
import pytest

from tests.httpapi.conftest import client, serving
from tests.servers import start_private_postgres, stop_private_postgres
from workbench.config import load_settings
from workbench.engine.dry_run import dry_run
from workbench.engine.options import CopyOptions
from workbench.engine.run import copy_database
from workbench.store import jobs, open_store
from workbench.store.tokens import create_token

pytestmark = pytest.mark.slow  # copies Chinook through the API


@pytest.fixture
def api(store, chinook_sqlite):
    """The API, allowed to read the Chinook file's folder (the server's disk otherwise
    refused: tests/httpapi/test_access.py)."""
    with serving(
        store, files_under=(Path(chinook_sqlite.removeprefix("sqlite:///")).parent,)
    ) as base:
        yield base


@pytest.fixture
def target_url(pg_server):
    name = pg_server.create_database("wbapitgt")
    yield pg_server.url(name)
    pg_server.drop_database(name)


def _empty_tables_like(source: str, target: str) -> None:
    """The target's tables exist, empty: the shape a team's new database has."""
    create = dry_run(source, target, CopyOptions()).ddl.split("-- phase 2")[0]
    with psycopg.connect(target, autocommit=True) as conn:
        for statement in create.split(";\n"):
            if statement.strip() and not statement.lstrip().startswith("--"):
                conn.execute(statement)


def _finished(http, job_id: int, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        job = http.get(f"/api/v1/jobs/{job_id}").json()
        seen.append(job["status"])
        if job["finished"]:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.2)


def test_the_whole_flow_by_the_api_only(api, store, owner_token, chinook_sqlite, target_url):
    _empty_tables_like(chinook_sqlite, target_url)
    http = client(api, owner_token)
    assert http.post("/api/v1/projects", json={"name": "shop"}).status_code == 201
    for name, url, role in (("src", chinook_sqlite, "source"), ("tgt", target_url, "target")):
        made = http.post(
            "/api/v1/projects/shop/connections", json={"name": name, "url": url, "role": role}
        )
        assert made.status_code == 201, made.text

    profiles = http.post(
        "/api/v1/projects/shop/connections/src/profiles", json={"tables": ["Customer"]}
    )
    assert profiles.status_code == 200, profiles.text
    [customer] = profiles.json()
    assert customer["rows"] == 59
    email = next(c for c in customer["columns"] if c["name"] == "Email")
    assert email["semantic"] == "email" and email["pii"]

    suggested = http.post("/api/v1/projects/shop/matches", json={"source": "src", "target": "tgt"})
    assert suggested.status_code == 200, suggested.text
    assert len(suggested.json()) == 11
    genre = next(m for m in suggested.json() if m["source_table"] == "Genre")
    # one decision by hand, the rest by confidence
    decided = http.post(
        f"/api/v1/projects/shop/mappings/{genre['id']}/decisions",
        json={"decisions": [{"action": "accept", "source_column": "Name"}]},
    )
    assert decided.status_code == 200, decided.text
    assert {c["source_column"]: c["state"] for c in decided.json()["columns"]}["Name"] == "accepted"
    for mapping in http.get("/api/v1/projects/shop/mappings").json():
        accepted = http.post(
            f"/api/v1/projects/shop/mappings/{mapping['id']}/accept-all",
            json={"min_confidence": 0.0},
        )
        assert accepted.status_code == 200, accepted.text
    assert all(
        c["state"] == "accepted"
        for m in http.get("/api/v1/projects/shop/mappings").json()
        for c in m["columns"]
        if c["source_column"]
    )

    started = http.post("/api/v1/projects/shop/jobs", json={"kind": "migrate"})
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    assert started.headers["Location"] == f"/api/v1/jobs/{job_id}"
    assert "sealed" not in started.json()["parameters"]
    job = _finished(http, job_id)
    assert job["status"] == "succeeded", job["error"]
    assert job["progress"]["rows_copied"] == 15607
    assert [j["id"] for j in http.get("/api/v1/projects/shop/jobs").json()] == [job_id]
    assert any("Starting" in e["message"] for e in http.get(f"/api/v1/jobs/{job_id}/logs").json())

    report = http.post(f"/api/v1/jobs/{job_id}/validate", json={})
    assert report.status_code == 200, report.text
    assert report.json()["ok"] is True
    assert sum(t["target_rows"] for t in report.json()["tables"]) == 15607
    with psycopg.connect(target_url) as conn:
        assert conn.execute('SELECT count(*) FROM "Track"').fetchone()[0] == 3503

    lineage = http.get("/api/v1/projects/shop/lineage", params={"job": job_id}).json()
    assert any(r["target_column"] == "Email" for r in lineage)
    compliance = http.get("/api/v1/projects/shop/compliance-report", params={"job": job_id})
    assert compliance.status_code == 200 and compliance.json()["jobs"][0]["id"] == job_id
    cancel_done = http.post(f"/api/v1/jobs/{job_id}/cancel")
    assert (
        cancel_done.status_code == 409 and cancel_done.json()["error"]["type"] == "JobConflictError"
    )


def _slow_copy_body(target: str) -> dict:
    return {
        "kind": "copy",
        "source": "src",
        "target": "tgt",
        "options": {"tables": ["Track"], "max_rows_per_second": 100, "partition_rows": 500},
    }


def test_a_job_the_api_started_is_cancelled_at_once(
    api, store, owner_token, chinook_sqlite, target_url
):
    http = client(api, owner_token)
    http.post("/api/v1/projects", json={"name": "shop"})
    http.post("/api/v1/projects/shop/connections", json={"name": "src", "url": chinook_sqlite})
    http.post(
        "/api/v1/projects/shop/connections",
        json={"name": "tgt", "url": target_url, "role": "target"},
    )
    started = http.post("/api/v1/projects/shop/jobs", json=_slow_copy_body(target_url))
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    deadline = time.monotonic() + 60
    while http.get(f"/api/v1/jobs/{job_id}").json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    asked = time.monotonic()
    assert http.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 202
    job = _finished(http, job_id, timeout=60)
    assert job["status"] == "cancelled"
    assert time.monotonic() - asked < 15
    assert (job["progress"]["rows_copied"] or 0) < 3503  # stopped part-way


def test_a_job_run_elsewhere_is_cancelled_through_the_store(
    api, store, owner_token, chinook_sqlite, target_url
):
    """The job runs in a driver the server knows nothing of (as a notebook's would); the
    API's cancel reaches it through the store, read by the driver's heartbeat."""
    http = client(api, owner_token)
    driver_store = open_store(store.settings)
    outcome: dict = {}

    def notebook() -> None:
        try:
            copy_database(
                chinook_sqlite,
                target_url,
                CopyOptions(tables=("Track",), max_rows_per_second=100, partition_rows=500),
                store=driver_store,
                on_job=lambda i: outcome.setdefault("id", i),
            )
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=notebook)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while "id" not in outcome or jobs.get_job(store, outcome["id"]).status != "running":
            assert time.monotonic() < deadline and thread.is_alive(), outcome
            time.sleep(0.1)
        asked = time.monotonic()
        answer = http.post(f"/api/v1/jobs/{outcome['id']}/cancel")
        assert answer.status_code == 202, answer.text
        thread.join(60)
        assert not thread.is_alive()
        assert type(outcome["error"]).__name__ == "JobCancelledError"
        assert time.monotonic() - asked < 15
        assert jobs.get_job(store, outcome["id"]).status == "cancelled"
    finally:
        thread.join(60)
        driver_store.close()


def test_readiness_fails_while_the_store_is_down_and_recovers(tmp_path):
    server = start_private_postgres(Path("/tmp") / f"wbapi-{os.getpid()}" / "data")
    try:
        url = server.url(server.create_database("store"))
        settings = load_settings(database_url=url, data_dir=tmp_path / "wb", user="ops")
        store = open_store(settings)
        token = create_token(store, "probe")[1]
        try:
            with serving(store, ready_timeout=2.0) as base:
                http = client(base, token)
                assert http.get("/health/ready").status_code == 200
                server.stop()
                began = time.monotonic()
                down = http.get("/health/ready")
                assert down.status_code == 503
                assert time.monotonic() - began < 6  # the check's own timeout, not libpq's
                check = down.json()["checks"]["store"]
                assert check["ok"] is False and check["detail"]
                assert http.get("/health/live").status_code == 200
                server.start()
                deadline = time.monotonic() + 30
                while http.get("/health/ready").status_code != 200:
                    assert time.monotonic() < deadline, "readiness did not recover"
                    time.sleep(0.5)
                assert http.get("/api/v1/projects").status_code == 200
        finally:
            store.close()
    finally:
        stop_private_postgres(server)
