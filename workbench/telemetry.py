"""Traces: OpenTelemetry spans for every job and every API request.

Spans are made through the OpenTelemetry API, which does nothing unless a tracer provider is
installed. The workbench installs one (the SDK, a batch processor, the OTLP/HTTP exporter) in
any process that makes a span while ``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set, unless the application installed its own
first (a notebook with its own exporter, the tests' in-memory one). Without either, nothing
is recorded or sent. The exporter reads the standard ``OTEL_*`` variables (headers, timeout,
``OTEL_SERVICE_NAME``).

A job's partitions run in other processes (Dask workers): the driver hands each task the
W3C trace context of its job (:func:`carrier`), and the worker continues it
(:func:`continued`), so one job is one trace wherever its parts ran.

Attributes name jobs, tables, partitions, users and organizations; never a URL, a password
or a token (tests/engine/test_traces.py looks for them).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator, Mapping

from opentelemetry import context, propagate, trace

log = logging.getLogger(__name__)

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
_lock = threading.Lock()
_installed: object | None = None  # the provider this module installed, if any


def tracer() -> trace.Tracer:
    """The workbench's tracer (exporting over OTLP when an endpoint is configured)."""
    _install_exporter()
    return trace.get_tracer("workbench")


def _install_exporter() -> None:
    global _installed
    if _installed is not None or not any(os.environ.get(v) for v in ENDPOINT_VARIABLES):
        return
    with _lock:
        if _installed is not None:
            return
        if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            _installed = trace.get_tracer_provider()  # the application chose its own
            return
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError as exc:
            log.warning("OTLP endpoint set but %s is missing: no traces are sent", exc.name)
            _installed = False
            return
        name = os.environ.get("OTEL_SERVICE_NAME") or "workbench"
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        _installed = provider


def flush(timeout_ms: int = 5000) -> None:
    """Send the spans made so far now (a worker process may be stopped before the batch
    processor's next round)."""
    provider = trace.get_tracer_provider()
    force = getattr(provider, "force_flush", None)
    if force is not None:
        force(timeout_ms)


def carrier() -> dict[str, str]:
    """The current trace context as W3C headers, to hand to another process."""
    out: dict[str, str] = {}
    propagate.inject(out)
    return out


@contextlib.contextmanager
def continued(headers: Mapping[str, str] | None) -> Iterator[None]:
    """Make spans in this block children of the context ``headers`` carry (see
    :func:`carrier`); without headers, nothing changes."""
    if not headers:
        yield
        return
    token = context.attach(propagate.extract(dict(headers)))
    try:
        yield
    finally:
        context.detach(token)


def fail(span: trace.Span, exc: BaseException) -> None:
    """Mark ``span`` failed with the error's kind and message (messages carry no secret)."""
    from workbench.urls import mask_text

    span.set_status(trace.Status(trace.StatusCode.ERROR, mask_text(str(exc))[:500]))
    span.set_attribute("error.type", type(exc).__name__)
