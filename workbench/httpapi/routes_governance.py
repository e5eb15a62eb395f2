"""Lineage and the compliance report, as the catalog and the auditors read them."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from workbench.governance.compliance import compliance_report, render_html
from workbench.governance.lineage import lineage
from workbench.httpapi.auth import CallerStore

router = APIRouter(tags=["governance"])


@router.get("/projects/{project}/lineage")
def project_lineage(
    store: CallerStore, project: str, column: str | None = None, job: int | None = None
) -> list[dict[str, Any]]:
    """Column lineage, newest job first (``column``: rows touching it; ``job``: that job's)."""
    return [r.to_dict() for r in lineage(store, project, column, job=job)]


@router.get("/projects/{project}/compliance-report")
def report(
    store: CallerStore,
    project: str,
    job: int | None = None,
    since: date | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    """The compliance report for one job, or for the jobs created in [since, until]."""
    return compliance_report(store, project, job=job, since=since, until=until).to_dict()


@router.get("/projects/{project}/compliance-report.html", response_class=HTMLResponse)
def report_html(store: CallerStore, project: str, job: int | None = None) -> str:
    return render_html(compliance_report(store, project, job=job))
