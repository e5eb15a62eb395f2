"""The stakeholder report's sections: project overview, mapping coverage, validation, quality.

Read-only and credential-free: connections appear by name, kind and role (never their URL),
job parameters are not shown at all.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import func, select

from workbench.monitoring import views
from workbench.store import Store, connections, jobs
from workbench.store.models import ColumnMapping, SchemaMapping
from workbench.store.projects import get_project, list_projects

CONFIDENCE_BANDS = [(0.9, "high (>= 0.9)"), (0.7, "medium (0.7-0.9)"), (0.0, "low (< 0.7)")]


def projects_overview(store: Store) -> pd.DataFrame:
    """Each project with its connections, mapped tables and jobs."""
    rows = []
    history = views.job_history(store, None, limit=1000)
    for p in list_projects(store):
        conns = connections.list_connections(store, p.id)
        mine = history[history["project"] == p.name]
        with store.session() as session:
            tables = session.scalar(
                select(func.count())
                .select_from(SchemaMapping)
                .where(SchemaMapping.project_id == p.id)
            )
        rows.append(
            {
                "project": p.name,
                "description": p.description or "",
                "status": p.status,
                "connections": ", ".join(f"{c.name} ({c.kind}, {c.role})" for c in conns),
                "mapped_tables": int(tables or 0),
                "jobs": len(mine),
                "succeeded": int((mine["status"] == "succeeded").sum()),
                "rows_copied": int(mine["rows_copied"].sum()),
                "last_job": mine["started_at"].max() if len(mine) else None,
            }
        )
    return pd.DataFrame(rows)


def _band(confidence: float | None) -> str:
    if confidence is None:
        return "none (manual)"
    return next(label for floor, label in CONFIDENCE_BANDS if confidence >= floor)


def column_mappings(store: Store, project: str | int) -> pd.DataFrame:
    """Every column mapping of the project with its table pair, origin, state and confidence."""
    record = get_project(store, project)
    with store.session() as session:
        found = session.execute(
            select(SchemaMapping, ColumnMapping)
            .join(ColumnMapping, ColumnMapping.schema_mapping_id == SchemaMapping.id)
            .where(SchemaMapping.project_id == record.id)
            .order_by(SchemaMapping.id, ColumnMapping.id)
        ).all()
        rows = [
            {
                "source_table": s.source_table,
                "target_table": s.target_table,
                "source_column": c.source_column or "",
                "target_column": c.target_column,
                "origin": c.origin,
                "state": c.state,
                "confidence": c.confidence,
                "band": _band(c.confidence),
            }
            for s, c in found
        ]
    return pd.DataFrame(
        rows,
        columns=[
            "source_table", "target_table", "source_column", "target_column", "origin", "state",
            "confidence", "band",
        ],
    )  # fmt: skip


def mapping_coverage(store: Store, project: str | int) -> dict[str, Any]:
    """How many columns are mapped: totals, and counts by origin and by confidence band."""
    frame = column_mappings(store, project)
    accepted = frame[frame["state"] == "accepted"]
    return {
        "columns": len(frame),
        "accepted": len(accepted),
        "suggested": int((frame["state"] == "suggested").sum()),
        "rejected": int((frame["state"] == "rejected").sum()),
        "by_origin": frame.groupby(["origin", "state"]).size().unstack(fill_value=0),
        "by_confidence": frame.groupby(["band", "state"]).size().unstack(fill_value=0),
    }


def validation_results(store: Store, project: str | int, limit: int = 20) -> pd.DataFrame:
    """Per table of the newest validated jobs: source and target rows, quarantined, ok."""
    rows = []
    for job in jobs.list_jobs(store, project, limit):
        report = (job.statistics or {}).get("validation")
        for t in (report or {}).get("tables", []):
            rows.append(
                {
                    "job_id": job.id,
                    "table": t.get("table"),
                    "source_rows": t.get("source_rows"),
                    "target_rows": t.get("target_rows"),
                    "quarantined": t.get("quarantined"),
                    "ok": bool(t.get("ok")),
                    "reasons": "; ".join(t.get("reasons") or []),
                }
            )
    return pd.DataFrame(
        rows,
        columns=["job_id", "table", "source_rows", "target_rows", "quarantined", "ok", "reasons"],
    )


def quality_scores(store: Store, project: str | int) -> pd.DataFrame | None:
    """Data-quality scores of the project's tables as last profiled: the source connections'
    tables ("before") and the target's ("after"); None while nothing was profiled."""
    from workbench.connectors.urls import mask_url
    from workbench.store.profiles import TableProfileRecord

    by_source: dict[str, tuple[str, str]] = {}
    for c in connections.list_connections(store, get_project(store, project).id):
        phase = "after" if c.role == "target" else "before"
        for rendering in {c.url, mask_url(c.url), mask_url(connections.connection_url(store, c))}:
            by_source[rendering] = (c.name, phase)
    if not by_source:
        return None
    with store.session() as session:
        records = session.scalars(
            select(TableProfileRecord)
            .where(
                TableProfileRecord.organization_id == store.identity.organization_id,
                TableProfileRecord.source.in_(list(by_source)),
            )
            .order_by(TableProfileRecord.id.desc())
        ).all()
        latest: dict[tuple[str, str | None, str], Any] = {}
        for r in records:  # newest first: keep the first seen per table
            latest.setdefault((r.source, r.schema_name, r.table_name), r)
        rows = []
        for (source, schema, table), r in latest.items():
            name, phase = by_source[source]
            quality = (r.profile or {}).get("quality") or {}
            rows.append(
                {
                    "phase": phase,
                    "connection": name,
                    "table": f"{schema}.{table}" if schema else table,
                    "score": quality.get("score"),
                    "rows": (r.profile or {}).get("rows"),
                    "profiled_at": r.created_at,
                }
            )
    if not rows:
        return None
    return pd.DataFrame(rows).sort_values(["phase", "connection", "table"], ignore_index=True)
