"""OpenLineage run events of a job: START, COMPLETE (and FAIL), with the source and target
tables, their schemas, row counts and column lineage (masks marked as masking), sent by
openlineage-python's client to a file and to an HTTP endpoint (as Marquez receives them);
nothing at all without configuration; never a password."""

from __future__ import annotations

import http.server
import json
import threading
import uuid

import pytest

from workbench.engine.options import CopyOptions
from workbench.engine.run import copy_database
from workbench.errors import CannotConnectError

SECRET = "Lineage-Secret-4"
SPEC = "https://openlineage.io/spec/"

pytestmark = pytest.mark.local_cluster  # small jobs on this process's threads


@pytest.fixture
def target_url(pg_server):
    name = pg_server.create_database("wbol")
    yield pg_server.url(name).replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")
    pg_server.drop_database(name)


def _well_formed(event: dict) -> None:
    """The run event's required properties (OpenLineage's RunEvent: eventTime, producer,
    schemaURL, run.runId a UUID, job namespace and name, eventType) and each facet's
    _producer and _schemaURL pointing into the published spec."""
    assert event["eventType"] in ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
    assert event["schemaURL"].startswith(SPEC) and event["producer"]
    uuid.UUID(event["run"]["runId"])
    assert event["job"]["namespace"] and event["job"]["name"]
    facets = [f for d in event["inputs"] + event["outputs"] for f in d.get("facets", {}).values()]
    facets += list(event["run"].get("facets", {}).values())
    facets += [f for d in event["outputs"] for f in d.get("outputFacets", {}).values()]
    for facet in facets:
        assert facet["_schemaURL"].startswith(SPEC) and facet["_producer"], facet
    assert SECRET not in json.dumps(event)


def test_a_job_writes_start_and_complete_with_column_lineage(
    store, chinook_sqlite, target_url, tmp_path, monkeypatch
):
    events_file = tmp_path / "events.jsonl"
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(events_file))
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    options = CopyOptions(
        tables=("Customer", "Genre"),
        transforms={"Customer": {"Email": {"mask": {"kind": "hash"}}}},
    )
    result = copy_database(chinook_sqlite, target_url, options, store=store)
    assert result.status == "succeeded"
    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    for event in events:
        _well_formed(event)
    start, complete = events
    assert start["run"]["runId"] == complete["run"]["runId"]
    assert complete["job"] == {"namespace": "workbench", "name": "adhoc.copy",
                               "facets": complete["job"].get("facets", {})}  # fmt: skip
    inputs = {d["name"]: d for d in complete["inputs"]}
    outputs = {d["name"].rsplit(".", 1)[1]: d for d in complete["outputs"]}
    assert set(inputs) == {"Customer", "Genre"} and set(outputs) == {"Customer", "Genre"}
    assert all(d["namespace"].startswith("file:///") for d in complete["inputs"])
    target = complete["outputs"][0]
    assert target["namespace"].startswith("postgres://") and "@" not in target["namespace"]
    assert outputs["Customer"]["outputFacets"]["outputStatistics"]["rowCount"] == 59
    assert outputs["Genre"]["outputFacets"]["outputStatistics"]["rowCount"] == 25
    schema = {f["name"] for f in outputs["Customer"]["facets"]["schema"]["fields"]}
    assert {"CustomerId", "Email", "Country"} <= schema
    lineage = outputs["Customer"]["facets"]["columnLineage"]["fields"]
    [email] = lineage["Email"]["inputFields"]
    assert email["field"] == "Email" and email["name"] == "Customer"
    assert email["transformations"] == [
        {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": "mask: hash",
         "masking": True}
    ]  # fmt: skip
    [country] = lineage["Country"]["inputFields"]
    assert country["transformations"][0]["subtype"] == "IDENTITY"
    assert country["transformations"][0]["masking"] is False


class _Marquez(http.server.BaseHTTPRequestHandler):
    """Accepts events as Marquez's /api/v1/lineage does."""

    received: list[tuple[str, dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, json.loads(body)))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_events_reach_an_http_endpoint_and_a_failure_is_a_fail_event(
    store, chinook_sqlite, target_url, monkeypatch
):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Marquez)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("OPENLINEAGE_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "migrations")
    try:
        copy_database(chinook_sqlite, target_url, CopyOptions(tables=("Genre",)), store=store)
        dead = f"postgresql://postgres:{SECRET}@127.0.0.1:1/nowhere"
        with pytest.raises(CannotConnectError):
            copy_database(chinook_sqlite, dead, CopyOptions(tables=("Genre",)), store=store)
    finally:
        server.shutdown()
    assert {path for path, _ in _Marquez.received} == {"/api/v1/lineage"}
    events = [e for _, e in _Marquez.received]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE", "FAIL"]
    for event in events:
        _well_formed(event)
        assert event["job"]["namespace"] == "migrations"
    failed = events[2]
    assert failed["run"]["facets"]["errorMessage"]["programmingLanguage"] == "python"
    assert "127.0.0.1" in failed["run"]["facets"]["errorMessage"]["message"]


def test_nothing_is_sent_without_configuration(store, chinook_sqlite, target_url, monkeypatch):
    from workbench.engine import openlineage

    for name in openlineage.CONFIG_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert not openlineage.configured()
    sent: list[object] = []
    monkeypatch.setattr("openlineage.client.OpenLineageClient.emit", lambda self, e: sent.append(e))
    result = copy_database(chinook_sqlite, target_url, CopyOptions(tables=("Genre",)), store=store)
    assert result.status == "succeeded" and sent == []
