"""Traces of a job and of API requests: the spans, their parents and attributes, checked with
the SDK's in-memory exporter; and once as a process exports them over OTLP/HTTP to a receiver
this test runs. No span attribute may hold a URL, a password or a token."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.httpapi.conftest import client, serving
from workbench.connectors.sqlite import SQLiteConnector
from workbench.engine.options import CopyOptions
from workbench.engine.run import copy_database
from workbench.errors import CannotConnectError
from workbench.store.tokens import create_token

SECRET = "Trace-Secret-9"


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    """The process's tracer provider, recording to memory (set once per process, as
    OpenTelemetry allows)."""
    memory = InMemorySpanExporter()
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):  # another module of this process set one
        current.add_span_processor(SimpleSpanProcessor(memory))
    else:
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(memory))
        trace.set_tracer_provider(provider)
    return memory


@pytest.fixture
def target_url(pg_server):
    name = pg_server.create_database("wbtrace")
    url = pg_server.url(name)
    # a password the server ignores (trust), there to be looked for in the spans
    yield url.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")
    pg_server.drop_database(name)


def _no_secret_in(spans: list[ReadableSpan], *secrets: str) -> None:
    for span in spans:
        for key, value in (span.attributes or {}).items():
            text = str(value)
            assert "://" not in text, (span.name, key, text)
            for secret in secrets:
                assert secret not in text, (span.name, key)
        assert all(s not in (span.status.description or "") for s in secrets)


@pytest.mark.local_cluster  # a small job on this process's threads: every span lands here
def test_a_jobs_trace_has_its_phases_partitions_and_checks(
    exporter, store, chinook_sqlite, target_url, monkeypatch
):
    # the general path, whose partitions transform too (rows passed as COPY text do not)
    monkeypatch.setattr(SQLiteConnector, "can_copy_text", lambda self, table, fields: False)
    exporter.clear()
    options = CopyOptions(tables=("Genre", "Track"), partition_rows=1000)
    result = copy_database(chinook_sqlite, target_url, options, store=store)
    assert result.status == "succeeded" and result.validated
    spans = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in spans}
    [job] = [s for s in spans if s.name == "workbench.job"]
    assert job.attributes["workbench.job.id"] == result.job_id
    assert job.attributes["workbench.source.kind"] == "sqlite"
    assert job.attributes["workbench.rows_copied"] == result.rows_copied
    trace_id = job.context.trace_id
    mine = [s for s in spans if s.context.trace_id == trace_id]

    def parent(span: ReadableSpan) -> ReadableSpan:
        assert span.parent is not None, span.name
        return by_id[span.parent.span_id]

    phases = {s.name: s for s in mine if s.parent and s.parent.span_id == job.context.span_id}
    assert {"plan", "copy", "finish"} <= set(phases), sorted(phases)
    partitions = [s for s in mine if s.name == "partition"]
    # Track: 3,503 rows in partitions of 1,000; Genre: one
    copied = sorted((s.attributes["workbench.table"], s.attributes["workbench.partition"])
                    for s in partitions)  # fmt: skip
    assert copied == [("Genre", 0)] + [("Track", i) for i in range(4)]
    assert all(parent(p) is phases["copy"] for p in partitions)
    assert sum(p.attributes["workbench.rows"] for p in partitions) == 3503 + 25
    for step in ("read", "transform", "write", "checkpoint"):
        found = [s for s in mine if s.name == step]
        assert found and all(parent(s).name == "partition" for s in found), step
    checks = [s for s in mine if s.name == "validate"]
    assert sorted(s.attributes["workbench.table"] for s in checks) == ["Genre", "Track"]
    assert all(s.attributes["workbench.validation.ok"] for s in checks)
    assert {s.attributes["workbench.table"] for s in mine if s.name == "keys"} == {"Genre", "Track"}
    _no_secret_in(mine, SECRET)


def test_a_failed_job_marks_its_span(exporter, store, chinook_sqlite, pg_server):
    exporter.clear()
    dead = f"postgresql://postgres:{SECRET}@127.0.0.1:1/nowhere"
    with pytest.raises(CannotConnectError):
        copy_database(chinook_sqlite, dead, CopyOptions(tables=("Genre",)), store=store)
    [job] = [s for s in exporter.get_finished_spans() if s.name == "workbench.job"]
    assert job.status.status_code == trace.StatusCode.ERROR
    assert job.attributes["error.type"] == "CannotConnectError"
    _no_secret_in(list(exporter.get_finished_spans()), SECRET)


def test_api_requests_are_server_spans_naming_route_and_caller(exporter, store):
    token = create_token(store, "ci")[1]
    with serving(store) as base:
        exporter.clear()
        http = client(base, token)
        http.post("/api/v1/projects", json={"name": "shop"})
        assert http.get("/api/v1/projects/shop").status_code == 200
        assert http.get("/api/v1/jobs/4242").status_code == 404
        parent = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"  # the caller's own trace
        http.get("/api/v1/projects", headers={"traceparent": parent})
    spans = [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.SERVER]
    names = [s.name for s in spans]
    assert names == ["POST /api/v1/projects", "GET /api/v1/projects/{project}",
                     "GET /api/v1/jobs/{job_id}", "GET /api/v1/projects"]  # fmt: skip
    assert [s.attributes["http.response.status_code"] for s in spans] == [201, 200, 404, 200]
    assert all(s.attributes["workbench.user"] == "tester" for s in spans)
    assert spans[1].attributes["url.path"] == "/api/v1/projects/shop"
    assert spans[3].context.trace_id == int("ab" * 16, 16)  # continued the caller's trace
    _no_secret_in(spans, token, token[4:20])


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.slow  # a `workbench copy` process
def test_a_cli_job_exports_its_trace_over_otlp(store_url, tmp_path, chinook_sqlite, pg_server):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = pg_server.url(pg_server.create_database("wbotlp"))
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "OTEL_"))}
        env |= {
            "WORKBENCH_DATABASE_URL": store_url,
            "WORKBENCH_DATA_DIR": str(tmp_path / "data"),
            "WORKBENCH_USER": "tester",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_port}",
            "OTEL_SERVICE_NAME": "workbench-ci",
        }
        done = subprocess.run(
            [str(Path(sys.executable).parent / "workbench"), "copy", chinook_sqlite, target,
             "--tables", "Genre", "--json"], env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    finally:
        server.shutdown()
        pg_server.drop_database(target.rsplit("/", 1)[1])
    spans, services = [], set()
    for body in _Receiver.received:
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            services |= {a.value.string_value for a in resource.resource.attributes
                         if a.key == "service.name"}  # fmt: skip
            spans += [s for scope in resource.scope_spans for s in scope.spans]
    assert services == {"workbench-ci"}
    names = [s.name for s in spans]
    assert names.count("workbench.job") == 1 and names.count("partition") == 1, names
    assert {"plan", "copy", "finish", "read", "write", "checkpoint", "validate"} <= set(names)
    assert len({s.trace_id for s in spans if s.name != "workbench.job"} | {
        s.trace_id for s in spans if s.name == "workbench.job"}) == 1  # fmt: skip


def test_nothing_is_installed_or_sent_without_an_endpoint():
    probe = (
        "from opentelemetry import trace\n"
        "from workbench import telemetry\n"
        "with telemetry.tracer().start_as_current_span('x') as span:\n"
        "    print(type(trace.get_tracer_provider()).__name__, span.is_recording())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    plain = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                           text=True, check=True)  # fmt: skip
    assert plain.stdout.split() == ["ProxyTracerProvider", "False"]
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9"  # configured (nobody listens)
    env["OTEL_BSP_EXPORT_TIMEOUT"] = "500"
    env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "1"
    configured = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                                text=True, check=True, timeout=60)  # fmt: skip
    assert configured.stdout.split() == ["TracerProvider", "True"]
