"""Compliance report of a project's jobs: PII found, how each PII column was treated, who ran
what and when, validation results, and violations of the project's masking policy.

Sources, all read from the store (nothing is recomputed or re-read from the databases):

- PII columns: the newest stored table profile of each source table a job copied
  (``workbench profile``; flags in ``ColumnProfile.pii``), matched on the job's source URL;
- treatment: the job's own lineage (:mod:`workbench.governance.lineage`), i.e. the transform
  rules the job ran, so a mask added to a mapping after the job does not count;
- exemptions and whether masking is required: :mod:`workbench.governance.policy` (as now);
- who ran what and when: the audit trail (job.create/start/finish/cancel, lineage.record,
  masking_policy.*);
- validation: the job's statistics (``validation`` as :class:`ValidationReport.as_dict`).

A **violation** is a PII column a job copied without a mask while the policy requires masking
and does not exempt the column.

    from workbench.governance.compliance import compliance_report, write_html
    report = compliance_report(store, "crm", job=42)
    write_html(report, "crm-42.html")
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select

from workbench.errors import InvalidInputError, NotFoundError
from workbench.governance.lineage import LineageRecord, lineage
from workbench.governance.policy import MaskingPolicy, get_policy
from workbench.store import jobs
from workbench.store.access import require
from workbench.store.audit import AuditRecord, audit_record
from workbench.store.models import AuditEvent
from workbench.store.profiles import TableProfileRecord
from workbench.store.projects import ProjectRef, get_project
from workbench.store.redact import jsonable

if TYPE_CHECKING:
    from workbench.store import Store
    from workbench.store.jobs import JobRecord

# how a PII column was treated by a job
MASKED, EXEMPT, VIOLATION, UNMASKED, NOT_COPIED = (
    "masked", "exempt", "violation", "unmasked", "not copied",
)  # fmt: skip
MAX_JOBS = 1000


@dataclass(frozen=True)
class PiiColumn:
    """One PII-flagged source column in one job, and what the job did with it."""

    job_id: int
    source: str  # schema.table.column (table.column without a schema)
    pii: list[str]
    semantic: str | None
    target: str | None  # schema.table.column; None when the job did not copy the column
    status: str  # masked | exempt | violation | unmasked | not copied
    mask: dict[str, Any] | None = None  # the mask rule the job ran
    transform: dict[str, Any] | None = None  # the whole transform rule
    exemption: str | None = None  # the policy's reason, when exempt

    @property
    def violation(self) -> bool:
        return self.status == VIOLATION

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "violation": self.violation}


@dataclass(frozen=True)
class JobSummary:
    id: int
    kind: str
    status: str
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    rows_copied: int | None
    rows_quarantined: int | None
    seconds: float | None
    validated: bool | None
    validation: list[dict[str, Any]]  # per table: source/target rows, quarantined, ok, reasons
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))


@dataclass
class ComplianceReport:
    project: str
    project_id: int
    scope: dict[str, Any]  # {"job": id} or {"since": ..., "until": ...}
    generated_at: datetime
    generated_by: str
    policy: MaskingPolicy
    jobs: list[JobSummary]
    pii_columns: list[PiiColumn]
    audit: list[AuditRecord] = field(default_factory=list)

    @property
    def violations(self) -> list[PiiColumn]:
        return [c for c in self.pii_columns if c.violation]

    def summary(self) -> dict[str, int]:
        count = {s: sum(c.status == s for c in self.pii_columns) for s in (MASKED, EXEMPT)}
        return {
            "jobs": len(self.jobs),
            "pii_columns": len(self.pii_columns),
            **count,
            "violations": len(self.violations),
        }

    def summary_line(self) -> str:
        s = self.summary()
        return (
            f"{s['jobs']} job(s): {s['pii_columns']} PII column(s), {s['masked']} masked, "
            f"{s['exempt']} exempt, {s['violations']} violation(s)"
        )

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "project": self.project,
                "project_id": self.project_id,
                "scope": self.scope,
                "generated_at": self.generated_at,
                "generated_by": self.generated_by,
                "policy": self.policy.to_dict(),
                "summary": self.summary(),
                "jobs": [j.to_dict() for j in self.jobs],
                "pii_columns": [c.to_dict() for c in self.pii_columns],
                "violations": [c.to_dict() for c in self.violations],
                "audit": [a.to_dict() for a in self.audit],
            }
        )


# --- building ------------------------------------------------------------------------------------


def compliance_report(
    store: Store,
    project: ProjectRef,
    *,
    job: int | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> ComplianceReport:
    """The report for one job, or for the jobs created in [since, until] (dates include the
    whole day); with neither, for the project's newest job."""
    require(store, "read", "read a compliance report")
    if job is not None and (since is not None or until is not None):
        raise InvalidInputError("Give either a job or a date range (since/until), not both")
    record = get_project(store, project)
    start, end = _bound(since, start=True), _bound(until, start=False)
    if start and end and start > end:
        raise InvalidInputError(f"--since {since} is after --until {until}")
    chosen = _jobs(store, record.id, record.name, job, start, end)
    policy = get_policy(store, record.id)
    columns: list[PiiColumn] = []
    for j in chosen:
        columns += pii_columns(store, j, lineage(store, record.id, job=j.id), policy)
    if job is not None:
        scope: dict[str, Any] = {"job": job}
    elif start or end:
        scope = {"since": start, "until": end}
    else:
        scope = {"job": chosen[0].id} if chosen else {"latest": None}
    return ComplianceReport(
        project=record.name,
        project_id=record.id,
        scope=scope,
        generated_at=datetime.now(UTC),
        generated_by=store.user,
        policy=policy,
        jobs=[_summary(j) for j in chosen],
        pii_columns=columns,
        audit=_audit(store, record.id, [j.id for j in chosen], start, end),
    )


def _bound(value: date | datetime | None, *, start: bool) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):  # a whole day: from its start, to the next day's start
        value = datetime.combine(value if start else value + timedelta(days=1), time.min)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _jobs(
    store: Store,
    project_id: int,
    name: str,
    job: int | None,
    start: datetime | None,
    end: datetime | None,
) -> list[JobRecord]:
    if job is not None:
        found = jobs.get_job(store, job)
        if found.project_id != project_id:
            raise NotFoundError(
                f"Job {job} is not a job of project {name!r}; list them with "
                f"`workbench job list {name}`",
                job_id=job,
                project=name,
            )
        return [found]
    listed = jobs.list_jobs(store, project_id, limit=MAX_JOBS)
    if start is None and end is None:
        return listed[:1]
    return [
        j
        for j in listed
        if (start is None or j.created_at >= start) and (end is None or j.created_at < end)
    ]


def _summary(job: JobRecord) -> JobSummary:
    stats = job.statistics or {}
    checks = (stats.get("validation") or {}).get("tables") or []
    return JobSummary(
        id=job.id,
        kind=job.kind,
        status=job.status,
        created_by=job.created_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        rows_copied=stats.get("rows_copied"),
        rows_quarantined=stats.get("rows_quarantined"),
        seconds=stats.get("seconds"),
        validated=stats.get("validated"),
        validation=[
            {
                "table": t.get("table"),
                "target": t.get("target"),
                "source_rows": t.get("source_rows"),
                "target_rows": t.get("target_rows"),
                "quarantined": t.get("quarantined"),
                "ok": bool(t.get("ok")),
                "reasons": list(t.get("reasons") or []),
                "unchecked_columns": dict(t.get("unchecked_columns") or {}),
            }
            for t in checks
        ],
        error=job.error,
    )


def pii_columns(
    store: Store, job: JobRecord, rows: list[LineageRecord], policy: MaskingPolicy
) -> list[PiiColumn]:
    """The PII-flagged columns of the source tables ``job`` copied, each with its treatment."""
    tables = {(r.source_schema, r.source_table) for r in rows}
    out = []
    for (schema, table), profile in _profiles(store, job, tables).items():
        for col in profile.get("columns") or []:
            if not col.get("pii"):
                continue
            name = col["name"]
            copied = [r for r in rows if r.source_table == table and r.source_column == name]
            source = ".".join(p for p in (schema, table, name) if p)
            out.append(_treatment(job.id, source, col, copied, policy, schema, table))
    return out


def _treatment(
    job_id: int,
    source: str,
    col: dict[str, Any],
    copied: list[LineageRecord],
    policy: MaskingPolicy,
    schema: str | None,
    table: str,
) -> PiiColumn:
    exemption = policy.exemption(table, col["name"], schema)
    base: dict[str, Any] = {"job_id": job_id, "source": source, "pii": list(col["pii"]),
            "semantic": col.get("semantic"), "exemption": exemption}  # fmt: skip
    if not copied:
        return PiiColumn(**base, target=None, status=NOT_COPIED)
    # a column copied into several targets is as weak as its weakest copy
    unmasked = [r for r in copied if not (r.transform or {}).get("mask")]
    chosen = unmasked[0] if unmasked else copied[0]
    rule = chosen.transform
    if not unmasked:
        status = MASKED
    elif exemption is not None:
        status = EXEMPT
    else:
        status = VIOLATION if policy.require_masking else UNMASKED
    return PiiColumn(
        **base,
        target=chosen.target,
        status=status,
        mask=(rule or {}).get("mask"),
        transform=rule,
    )


def _profiles(
    store: Store, job: JobRecord, tables: set[tuple[str | None, str]]
) -> dict[tuple[str | None, str], dict[str, Any]]:
    """The newest stored profile of each source table the job copied, by (schema, table)."""
    source = (job.parameters or {}).get("source")
    if not source or not tables:
        return {}
    with store.session() as session:
        newest = (
            select(func.max(TableProfileRecord.id))
            .where(
                TableProfileRecord.organization_id == store.identity.organization_id,
                TableProfileRecord.source == source,
                TableProfileRecord.table_name.in_(sorted({t for _, t in tables})),
            )
            .group_by(
                func.coalesce(TableProfileRecord.schema_name, ""), TableProfileRecord.table_name
            )
        )
        found = session.execute(
            select(
                TableProfileRecord.schema_name,
                TableProfileRecord.table_name,
                TableProfileRecord.profile,
            ).where(TableProfileRecord.id.in_(newest))
        ).all()
    out = {}
    for schema, table, profile in found:
        # SQLite has no schema, some connectors say "main": a missing schema matches any
        key = next(
            ((s, t) for s, t in tables if t == table and (s == schema or not s or not schema)),
            None,
        )
        if key is not None:
            out[(key[0] or schema, table)] = profile
    return dict(sorted(out.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])))


def _audit(
    store: Store,
    project_id: int,
    job_ids: list[int],
    start: datetime | None,
    end: datetime | None,
) -> list[AuditRecord]:
    """The jobs' events and the project's masking-policy changes, oldest first."""
    of_jobs = and_(AuditEvent.object_type == "migration_job", AuditEvent.object_id.in_(job_ids))
    of_policy = AuditEvent.object_type == "masking_policy"
    query = select(AuditEvent).where(
        AuditEvent.project_id == project_id,
        AuditEvent.organization_id == store.identity.organization_id,
        or_(of_jobs, of_policy) if job_ids else of_policy,
    )
    if end is not None:
        query = query.where(AuditEvent.at < end)
    if start is not None:  # policy changes before the range still govern it: keep those
        query = query.where(or_(AuditEvent.at >= start, of_policy))
    with store.session() as session:
        rows = session.scalars(query.order_by(AuditEvent.at, AuditEvent.id)).all()
        return [audit_record(r) for r in rows]


# --- HTML ----------------------------------------------------------------------------------------


def render_html(report: ComplianceReport) -> str:
    """A self-contained HTML page (inline CSS, no scripts, no external resources)."""
    from jinja2 import Environment, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["when"] = _when
    env.filters["rule"] = _rule
    env.filters["details"] = _details
    return env.from_string(TEMPLATE).render(r=report, s=report.summary(), scope=_scope(report))


def write_html(report: ComplianceReport, path: str | Path) -> Path:
    out = Path(path)
    if out.parent and not out.parent.exists():
        raise InvalidInputError(f"Folder {out.parent} does not exist; create it or choose another")
    out.write_text(render_html(report), encoding="utf-8")
    return out


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def _rule(rule: dict[str, Any] | None) -> str:
    if not rule:
        return ""
    return ", ".join(
        f"{k}: " + (", ".join(f"{a}={b}" for a, b in v.items()) if isinstance(v, dict) else str(v))
        for k, v in rule.items()
    )


_HIDDEN_DETAILS = {"parameters", "sealed", "before"}  # bulky; the job table shows what matters


def _details(details: dict[str, Any]) -> str:
    return "; ".join(
        f"{k}={v}"
        for k, v in (details or {}).items()
        if k not in _HIDDEN_DETAILS and v not in (None, "", [], {})
    )


def _scope(report: ComplianceReport) -> str:
    if "job" in report.scope and report.scope["job"] is not None:
        return f"job {report.scope['job']}"
    if "since" in report.scope:
        since, until = report.scope["since"], report.scope["until"]
        return f"jobs created {'from ' + _when(since) if since else ''}" + (
            f" before {_when(until)}" if until else ""
        )
    return "no jobs yet"


TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Compliance report: {{ r.project }} ({{ scope }})</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:72rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}.violation{background:#fde2e1}.masked{background:#e3f4e1}
.exempt{background:#fff6d6}.badge{font-weight:bold}.ok{color:#1a7f37}.bad{color:#c62828}
.summary span{display:inline-block;margin-right:1.5rem}
</style></head><body>
<h1>Compliance report: project {{ r.project }}</h1>
<p>Scope: {{ scope }}. Generated {{ r.generated_at | when }} by {{ r.generated_by }}.</p>
<p class="summary">
<span>Jobs: <b>{{ s.jobs }}</b></span><span>PII columns: <b>{{ s.pii_columns }}</b></span>
<span>Masked: <b>{{ s.masked }}</b></span><span>Exempt: <b>{{ s.exempt }}</b></span>
<span class="{{ 'bad' if s.violations else 'ok' }}">Violations: <b>{{ s.violations }}</b></span>
</p>

<h2>Masking policy</h2>
<p>Masking of PII columns is <b>{{ 'required' if r.policy.require_masking else 'not required' }}</b>
{%- if r.policy.updated_by %} (set by {{ r.policy.updated_by }}, {{ r.policy.updated_at | when }}){% endif %}.</p>
{% if r.policy.exemptions %}<table><tr><th>Exempt column</th><th>Reason</th></tr>
{% for column, reason in r.policy.exemptions | dictsort %}<tr><td>{{ column }}</td><td>{{ reason }}</td></tr>
{% endfor %}</table>{% else %}<p>No exemptions.</p>{% endif %}

<h2>Violations</h2>
{% if r.violations %}<table id="violations"><tr><th>Job</th><th>Source column</th><th>PII</th><th>Copied to</th></tr>
{% for c in r.violations %}<tr class="violation"><td>{{ c.job_id }}</td><td>{{ c.source }}</td>
<td>{{ c.pii | join(', ') }}</td><td>{{ c.target }}</td></tr>
{% endfor %}</table>
<p>Each was copied without a mask while the policy requires masking and does not exempt it:
mask it in its mapping (<code>workbench masking apply</code>) or exempt it with a reason, then run again.</p>
{% else %}<p class="ok">None.</p>{% endif %}

<h2>PII columns</h2>
{% if r.pii_columns %}<table id="pii"><tr><th>Job</th><th>Source column</th><th>PII</th><th>Treatment</th>
<th>Mask</th><th>Target column</th><th>Exemption reason</th></tr>
{% for c in r.pii_columns %}<tr class="{{ c.status | replace(' ', '-') }}"><td>{{ c.job_id }}</td>
<td>{{ c.source }}</td><td>{{ c.pii | join(', ') }}{% if c.semantic %} ({{ c.semantic }}){% endif %}</td>
<td class="badge">{{ c.status }}</td><td>{{ c.mask | rule }}</td><td>{{ c.target or '' }}</td>
<td>{{ c.exemption or '' }}</td></tr>
{% endfor %}</table>
{% else %}<p>No PII-flagged columns in the copied tables' stored profiles
(profile the source with <code>workbench profile</code> to find them).</p>{% endif %}

<h2>Jobs and validation</h2>
{% for j in r.jobs %}<h3>Job {{ j.id }} ({{ j.kind }}): {{ j.status }}</h3>
<p>Created by {{ j.created_by }} at {{ j.created_at | when }}; ran {{ j.started_at | when }}
to {{ j.finished_at | when }}{% if j.seconds is not none %} ({{ '%.1f' | format(j.seconds) }} s){% endif %};
{{ j.rows_copied if j.rows_copied is not none else 'no' }} rows copied,
{{ j.rows_quarantined or 0 }} quarantined;
validation: {% if j.validated %}<span class="ok">passed</span>{% elif j.validation %}<span class="bad">failed</span>{% else %}not run{% endif %}.
{% if j.error %}<br>Error: {{ j.error }}{% endif %}</p>
{% if j.validation %}<table><tr><th>Table</th><th>Source rows</th><th>Target rows</th><th>Quarantined</th>
<th>OK</th><th>Reasons</th><th>Not content-checked</th></tr>
{% for t in j.validation %}<tr><td>{{ t.table }}</td><td>{{ t.source_rows }}</td><td>{{ t.target_rows }}</td>
<td>{{ t.quarantined }}</td><td class="{{ 'ok' if t.ok else 'bad' }}">{{ 'yes' if t.ok else 'no' }}</td>
<td>{{ t.reasons | join('; ') }}</td><td>{{ t.unchecked_columns | dictsort | map('first') | join(', ') }}</td></tr>
{% endfor %}</table>{% endif %}
{% else %}<p>No jobs in this scope.</p>{% endfor %}

<h2>Audit trail</h2>
{% if r.audit %}<table id="audit"><tr><th>When</th><th>Who</th><th>Action</th><th>Object</th><th>Details</th></tr>
{% for a in r.audit %}<tr><td>{{ a.at | when }}</td><td>{{ a.actor }}</td><td>{{ a.action }}</td>
<td>{{ a.object_name or a.object_type }}</td><td>{{ a.details | details }}</td></tr>
{% endfor %}</table>{% else %}<p>No audit events.</p>{% endif %}
</body></html>
"""  # noqa: E501 - HTML reads better unwrapped
