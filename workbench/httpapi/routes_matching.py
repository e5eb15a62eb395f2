"""Match suggestions and the decisions on them (accepted and corrected ones teach the
matcher, as in the widget)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from workbench.httpapi import guard
from workbench.httpapi.auth import CallerStore
from workbench.httpapi.bodies import AcceptAll, Decisions, MatchRequest
from workbench.matching import decisions
from workbench.matching.mappings import get_mapping, list_mappings, suggest_mappings
from workbench.store import connections

router = APIRouter(tags=["matching"])


@router.post("/projects/{project}/matches")
def match(
    store: CallerStore, project: str, body: MatchRequest, request: Request
) -> list[dict[str, Any]]:
    """Suggest table and column pairs from ``source`` to ``target``; saved as suggested."""
    for name in (body.source, body.target):
        record = connections.get_connection(store, project, name)
        guard.check_url(record.url, request.app.state.file_roots, f"Connection {name!r}")
    saved = suggest_mappings(store, project, body.source, body.target, sample_rows=body.sample_rows)
    return [m.to_dict() for m in saved]


@router.get("/projects/{project}/mappings")
def mappings(store: CallerStore, project: str) -> list[dict[str, Any]]:
    return [m.to_dict() for m in list_mappings(store, project)]


@router.get("/projects/{project}/mappings/{mapping}")
def mapping(store: CallerStore, project: str, mapping: str) -> dict[str, Any]:
    return get_mapping(store, project, _ref(mapping)).to_dict()


@router.post("/projects/{project}/mappings/{mapping}/decisions")
def decide(store: CallerStore, project: str, mapping: str, body: Decisions) -> dict[str, Any]:
    """Apply a review's decisions in one transaction (all or none; the first that cannot be
    applied is named)."""
    choices = [
        decisions.Decision(d.action, d.source_column, d.target_column) for d in body.decisions
    ]
    return decisions.decide(store, project, _ref(mapping), choices).to_dict()


@router.post("/projects/{project}/mappings/{mapping}/accept-all")
def accept_all(store: CallerStore, project: str, mapping: str, body: AcceptAll) -> dict[str, Any]:
    """Accept every open suggestion at or above ``min_confidence``."""
    return decisions.accept_all(
        store, project, _ref(mapping), min_confidence=body.min_confidence
    ).to_dict()


def _ref(mapping: str) -> str | int:
    """A mapping by id (digits), source table, or "source->target"."""
    return int(mapping) if mapping.isdigit() else mapping
