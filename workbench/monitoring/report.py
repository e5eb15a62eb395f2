"""The stakeholder report's sections: project overview, mapping coverage, validation, quality.

Read-only and credential-free: connections appear by name, kind and role (never their URL),
job parameters are not shown at all.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import func, select

from workbench.governance.lineage import lineage
from workbench.monitoring import views
from workbench.store import Store, connections, jobs
from workbench.store.access import require
from workbench.store.models import ColumnMapping, SchemaMapping
from workbench.store.profiles import TableProfileRecord
from workbench.store.projects import get_project, list_projects
from workbench.urls import mask_url

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

    by_source: dict[str, tuple[str, str]] = {}
    for c in connections.list_connections(store, get_project(store, project).id):
        phase = "after" if c.role == "target" else "before"
        for rendering in {c.url, mask_url(c.url), connections.masked_url(c)}:
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


# --- lineage graph ---------------------------------------------------------------------------

_ROW, _GAP, _NODE_W, _COLS = 24, 8, 230, (10, 330, 650)


def lineage_graph(store: Store, project: str | int) -> str | None:
    """The column lineage of the project's newest job that has one, as an inline SVG
    (source columns -> transform -> target columns); None while no job recorded lineage."""

    require(store, "read", "read lineage")
    rows = lineage(store, project)  # newest job first
    if not rows:
        return None
    job_id = rows[0].job_id
    job = jobs.get_job(store, job_id)
    caption = f"job {job_id} ({job.kind}, {job.status})"
    return lineage_svg([r for r in rows if r.job_id == job_id], caption)


def transform_label(rule: dict[str, Any] | None, expression: str | None) -> str | None:
    """A short name for what happens to a column: "mask: hash", "cast: int64", "expression"."""
    parts = ["expression"] if expression else []
    for key, value in (rule or {}).items():
        if key == "mask" and isinstance(value, dict):
            parts.append(f"mask: {value.get('kind', '?')}")
        elif isinstance(value, str | int | float | bool):
            parts.append(f"{key}: {value}")
        else:
            parts.append(key)
    text = ", ".join(parts)
    return (text[:30] + "…" if len(text) > 31 else text) or None


def lineage_svg(records: list[Any], caption: str = "") -> str:
    """Three layers of boxes joined by curves; text escaped, no script, no external resource."""
    from html import escape

    sources: dict[str, int] = {}
    for r in records:
        sources.setdefault(r.source, len(sources))
    height = max(len(sources), len(records)) * (_ROW + _GAP) + 60
    width = _COLS[2] + _NODE_W + 10
    parts = [
        f"<svg class='wb-lineage' xmlns='http://www.w3.org/2000/svg' width='{width}'"
        f" height='{height}' role='img' font-family='sans-serif' font-size='12'>",
        f"<title>Column lineage, {escape(caption)}</title>",
    ]
    for x, head in zip(_COLS, ("source column", "transform", "target column"), strict=True):
        parts.append(f"<text x='{x}' y='20' font-weight='bold'>{head}</text>")
    for name, i in sources.items():
        parts.append(_box(_COLS[0], _top(i), name, "#e8eef7"))
    for i, r in enumerate(records):
        label = transform_label(r.transform, r.expression)
        start = (_COLS[0] + _NODE_W, _top(sources[r.source]) + _ROW / 2)
        end = (_COLS[2], _top(i) + _ROW / 2)
        if label:
            masked = bool((r.transform or {}).get("mask"))
            tip = r.expression or ""
            parts.append(_box(_COLS[1], _top(i), label, "#fde7d2" if masked else "#efe8f7", tip))
            parts.append(_curve(start, (_COLS[1], end[1])))
            parts.append(_curve((_COLS[1] + _NODE_W, end[1]), end))
        else:
            parts.append(_curve(start, end))
        version = f" (mapping v{r.mapping_version})" if r.mapping_version else ""
        parts.append(_box(_COLS[2], _top(i), r.target, "#e3f4e1", f"{r.target}{version}"))
    parts.append("</svg>")
    return "".join(parts)


def _top(row: int) -> int:
    return 40 + row * (_ROW + _GAP)


def _box(x: float, y: float, text: str, fill: str, tip: str = "") -> str:
    from html import escape

    shown = text if len(text) <= 34 else "…" + text[-33:]
    title = f"<title>{escape(tip or text)}</title>"
    return (
        f"<g>{title}<rect x='{x}' y='{y}' width='{_NODE_W}' height='{_ROW}' rx='4' fill='{fill}'"
        f" stroke='#8a8a8a'/><text x='{x + 6}' y='{y + 16}'>{escape(shown)}</text></g>"
    )


def _curve(a: tuple[float, float], b: tuple[float, float]) -> str:
    mid = (a[0] + b[0]) / 2
    return (
        f"<path d='M{a[0]},{a[1]} C{mid},{a[1]} {mid},{b[1]} {b[0]},{b[1]}' fill='none'"
        " stroke='#6b8cc7' stroke-width='1.4'/>"
    )
