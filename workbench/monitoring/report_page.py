"""The stakeholder report as one HTML page: per project, figures that read at a glance, charts,
and short tables for people (the Voilà report displays it; nothing here runs a job).

Per project: headline figures (rows moved by the newest successful job, validated or not,
quarantined, mapping coverage, quality before -> after, jobs), charts (rows/s over the newest
job, rows per table, quality per table before and after, quarantine by kind of error), the
newest jobs, the newest validation (mismatches first), and the column lineage. Numbers carry
separators, dates read as dates, missing values are "—", status is in colour. The store is read
once for all projects' jobs, so a store with a thousand jobs loads in about a second.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from workbench import render
from workbench.monitoring import charts, report, views
from workbench.store import Store, jobs
from workbench.store.jobs import JobRecord
from workbench.store.projects import list_projects

JOBS_SHOWN = 10
HISTORY = 1000  # newest jobs read for the whole page


def _when(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return render.MISSING
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


def _boxes(items: list[tuple[str, str]]) -> str:
    cells = "".join(
        "<div class='wb-figure' style='display:inline-block;min-width:130px;margin:0 14px 10px 0;"
        "padding:8px 12px;border:1px solid #d0d7de;border-radius:6px'>"
        f"<div style='font-size:11px;color:#57606a;text-transform:uppercase'>{html.escape(k)}"
        f"</div><div style='font-size:20px'>{v}</div></div>"
        for k, v in items
    )
    return f"<div>{cells}</div>"


def _newest(history: pd.DataFrame, status: str | None = None) -> pd.Series | None:
    rows = history if status is None else history[history["status"] == status]
    return None if rows.empty else rows.iloc[0]  # history is newest first


def _validation(job: JobRecord | None) -> dict[str, Any] | None:
    return (job.statistics or {}).get("validation") if job is not None else None


def project_section(store: Store, project: Any, history: pd.DataFrame) -> str:
    """One project's part of the report."""
    coverage = report.mapping_coverage(store, project.id)
    quality = report.quality_scores(store, project.id)
    last_ok = _newest(history, "succeeded")
    newest = _newest(history)
    # the newest successful job, else the newest of any status
    shown = last_ok if last_ok is not None else newest
    shown_job = jobs.get_job(store, int(shown["job_id"])) if shown is not None else None
    checked = _validation(shown_job)
    validated = (
        render.status("validated")
        if checked and checked.get("ok")
        else render.status("mismatch")
        if checked
        else render.status("not validated")
    )
    before = after = None
    if quality is not None:
        means = quality.groupby("phase")["score"].mean()
        before, after = means.get("before"), means.get("after")
    covered = coverage["accepted"] / coverage["columns"] if coverage["columns"] else None
    moved = render.number(int(last_ok["rows_copied"])) if last_ok is not None else None
    held = render.number(int(last_ok["rows_quarantined"])) if last_ok is not None else None
    succeeded = int((history["status"] == "succeeded").sum())
    figures = [
        ("rows moved", moved or render.MISSING),
        ("validation", validated),
        ("quarantined", held or render.MISSING),
        ("mapping coverage", render.percent(covered)),
        ("quality before → after", f"{render.percent(before)} → {render.percent(after)}"),
        ("jobs", f"{succeeded} succeeded of {len(history)}"),
        ("newest job", render.status(str(newest["status"])) if newest is not None else "—"),
    ]
    parts = [
        f"<h2 class='wb-project-name'>{html.escape(project.name)}</h2>",
        f"<p style='color:#57606a'>{html.escape(project.description or '')}</p>",
        _boxes(figures),
    ]
    parts.append(_charts(store, shown_job, checked, quality))
    if len(history):
        rows = [
            {
                "job": int(r.job_id),
                "kind": r.kind,
                "status": render.status(str(r.status)),
                "started": _when(r.started_at),
                "took": render.seconds(float(r.seconds)) if r.seconds else None,
                "rows": int(r.rows_copied),
                "quarantined": int(r.rows_quarantined),
                "rows/s": render.number(float(r.rows_per_second)),
            }
            for r in history.head(JOBS_SHOWN).itertuples()
        ]
        parts.append("<h3>Newest jobs</h3>")
        parts.append(render.table_html(rows, list(rows[0]), raw=["status"]))
    if checked:
        tables = sorted(checked.get("tables") or [], key=lambda t: bool(t.get("ok")))
        rows = [
            {
                "table": t.get("table"),
                "source rows": t.get("source_rows"),
                "target rows": t.get("target_rows"),
                "quarantined": t.get("quarantined"),
                "check": render.status("ok" if t.get("ok") else "mismatch"),
                "why": "; ".join(t.get("reasons") or []) or None,
            }
            for t in tables
        ]
        assert shown_job is not None  # a validation belongs to a job
        parts.append(f"<h3>Validation of job {shown_job.id}</h3>")
        parts.append(render.table_html(rows, list(rows[0]), raw=["check"]) if rows else "")
    graph = report.lineage_graph(store, project.id)
    parts.append("<h3>Column lineage (newest job)</h3>")
    parts.append(graph or "<p><i>Lineage appears here once a job has run.</i></p>")
    return f"<section class='wb-project'>{''.join(parts)}</section>"


def _charts(
    store: Store,
    job: JobRecord | None,
    checked: dict[str, Any] | None,
    quality: pd.DataFrame | None,
) -> str:
    drawn: list[str] = []
    if job is not None:
        rate = views.throughput(job)
        if len(rate) > 1:
            drawn.append(charts.rate_over_time(
                rate["seconds"], rate["rows_per_second"], f"Rows/s over job {job.id}"
            ))  # fmt: skip
    if checked and checked.get("tables"):
        tables = sorted(checked["tables"], key=lambda t: -(t.get("source_rows") or 0))[:15]
        drawn.append(charts.horizontal_bars(
            [str(t.get("table")).split(".")[-1] for t in tables],
            {"source": [t.get("source_rows") or 0 for t in tables],
             "target": [t.get("target_rows") or 0 for t in tables]},
            "Rows per table (newest validated job)",
        ))  # fmt: skip
    if quality is not None and len(quality):
        q = quality.assign(name=quality["table"].str.split(".").str[-1].str.lower())
        pivot = q.pivot_table(index="name", columns="phase", values="score", aggfunc="mean")
        pivot = pivot.reindex(columns=["before", "after"]).head(15)
        drawn.append(charts.horizontal_bars(
            list(pivot.index),
            {c: pivot[c].fillna(0).tolist() for c in pivot.columns if pivot[c].notna().any()},
            "Quality per table, before and after", percent=True,
        ))  # fmt: skip
    if job is not None and (job.statistics or {}).get("rows_quarantined"):
        classes = views.quarantine_by_class(store, job)
        if len(classes):
            labels = [f"{r.table.split('.')[-1]}.{r.column}: {r.error_kind}"[:60]
                      for r in classes.head(10).itertuples()]  # fmt: skip
            drawn.append(charts.horizontal_bars(
                labels, {"rows": classes["rows"].head(10).tolist()},
                f"Quarantined rows of job {job.id}, by kind of error", colours=(charts.RED,),
            ))  # fmt: skip
    box = "<div style='display:inline-block;vertical-align:top'>{}</div>"
    cells = "".join(box.format(c) for c in drawn)
    return f"<div class='wb-charts'>{cells}</div>"


def report_html(store: Store) -> str:
    """The whole report for the store's user: every project of their organization."""
    history = views.job_history(store, None, limit=HISTORY)
    projects = list_projects(store)
    head = (
        f"<p class='wb-identity' style='color:#57606a'><i>{html.escape(store.identity.user)} · "
        f"organization {html.escape(store.identity.organization)}</i></p>"
    )
    if not projects:
        return head + "<p><i>No projects yet.</i></p>"
    sections = [
        project_section(store, p, history[history["project"] == p.name].reset_index(drop=True))
        for p in projects
    ]
    return head + "".join(sections)
