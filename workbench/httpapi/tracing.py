"""The caller on each request's span. FastAPI makes the spans (one per request, named by
method and route, continuing a caller's ``traceparent``: ``FastAPI(telemetry=...)`` in
``app``); this adds who called. Never the token."""

from __future__ import annotations

from opentelemetry import trace


def tag_caller(user: str, organization: str) -> None:
    """Name the caller on the request's span (called once the token is known)."""
    span = trace.get_current_span()
    span.set_attribute("workbench.user", user)
    span.set_attribute("workbench.organization", organization)
