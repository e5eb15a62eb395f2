"""Job statistics as tables the dashboards draw: the store's live data, never the engine's.

While a job runs the engine mirrors its statistics to ``migration_jobs.statistics`` (see
``engine.records``); these functions only read them. Quarantined rows live in the job's
TARGET database (``_workbench.quarantine``); :func:`quarantined_rows` reaches it with the
job's sealed URL, decrypted in memory only.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import psycopg

from workbench.store import Store, jobs
from workbench.store.access import require
from workbench.store.jobs import JobRecord
from workbench.store.projects import list_projects
from workbench.urls import mask_text

JOB_COLUMNS = [
    "job_id",
    "project",
    "kind",
    "status",
    "started_at",
    "finished_at",
    "seconds",
    "rows_read",
    "rows_copied",
    "rows_quarantined",
    "bytes",
    "retries",
    "rows_per_second",
    "progress",
    "rows_estimate",
    "eta_seconds",
    "error",
    "seconds_behind",
    "changes_per_second",
    "changes_total",
    "changes_behind",
]
LIVE_STATUSES = ("pending", "running")


def job_seconds(job: JobRecord, now: datetime | None = None) -> float:
    """Wall seconds of a job: its recorded duration, or the time since it started."""
    stats = job.statistics or {}
    if job.is_terminal and stats.get("seconds"):
        return float(stats["seconds"])
    if job.started_at is None:
        return 0.0
    end = job.finished_at or now or datetime.now(UTC)
    return max(0.0, (end - job.started_at).total_seconds())


def job_row(job: JobRecord, project: str = "") -> dict[str, Any]:
    """One job as a flat row (totals, duration, progress as a fraction of the estimate)."""
    stats = job.statistics or {}
    follow = stats.get("follow") or {}
    seconds = job_seconds(job)
    read = int(stats.get("rows_read", 0))
    estimate = int(stats.get("rows_estimate", 0))
    progress = min(1.0, read / estimate) if estimate else 0.0
    if job.status == "succeeded":
        progress = 1.0
    rate = read / seconds if seconds else 0.0
    # time left at the rate so far (copy phase only; keys and validation come after)
    eta = (estimate - read) / rate if job.status == "running" and rate and estimate > read else None
    return {
        "job_id": job.id,
        "project": project,
        "kind": job.kind,
        "status": job.status,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "seconds": round(seconds, 2),
        "rows_read": read,
        "rows_copied": int(stats.get("rows_copied", 0)),
        "rows_quarantined": int(stats.get("rows_quarantined", 0)),
        "bytes": int(stats.get("bytes", 0)),
        "retries": int(stats.get("retries", 0)),
        "rows_per_second": round(rate, 1),
        "progress": round(progress, 4),
        "rows_estimate": estimate,
        "eta_seconds": round(eta, 1) if eta is not None else None,
        "error": mask_text(job.error) if job.error else "",
        # a followed copy (engine.follow): its follower's lag and pace, as last written
        "seconds_behind": follow.get("seconds_behind"),
        "changes_per_second": follow.get("changes_per_second"),
        "changes_total": follow.get("changes_total"),
        "changes_behind": follow.get("changes_behind"),
    }


def project_names(store: Store) -> dict[int, str]:
    require(store, "read")
    return {p.id: p.name for p in list_projects(store, include_archived=True)}


def job_history(store: Store, project: str | int | None = None, limit: int = 200) -> pd.DataFrame:
    """Jobs newest first with durations and throughput (all projects unless one is named)."""
    require(store, "read")
    names = project_names(store)
    rows = [job_row(j, names.get(j.project_id, "")) for j in jobs.list_jobs(store, project, limit)]
    return pd.DataFrame(rows, columns=JOB_COLUMNS)


def live_jobs(store: Store, project: str | int | None = None) -> pd.DataFrame:
    """Jobs still pending or running."""
    require(store, "read")
    frame = job_history(store, project)
    return frame[frame["status"].isin(LIVE_STATUSES)].reset_index(drop=True)


def table_progress(job: JobRecord) -> pd.DataFrame:
    """Per table: estimate, rows read/written/quarantined, partitions done, retries, progress,
    and, while the job runs, the seconds left for the table at the job's rate so far."""
    tables = (job.statistics or {}).get("tables", {})
    elapsed = job_seconds(job)
    read_all = sum(int(t.get("rows_read", 0)) for t in tables.values())
    rate = read_all / elapsed if elapsed and read_all else 0.0
    rows = []
    for name, t in sorted(tables.items()):
        estimate = int(t.get("rows_estimate") or 0)
        parts, done = int(t.get("partitions") or 0), int(t.get("partitions_done") or 0)
        seconds = float(t.get("seconds") or 0)
        read = int(t.get("rows_read", 0))
        by_rows = min(1.0, read / estimate) if estimate else 0.0
        progress = done / parts if parts else by_rows
        running = job.status == "running" and rate and progress < 1 and estimate > read
        rows.append(
            {
                "table": name,
                "rows_estimate": estimate,
                "rows_read": read,
                "rows_written": int(t.get("rows_written", 0)),
                "rows_quarantined": int(t.get("rows_quarantined", 0)),
                "bytes": int(t.get("bytes", 0)),
                "partitions": parts,
                "partitions_done": done,
                "retries": int(t.get("retries", 0)),
                "seconds": round(seconds, 2),
                "progress": round(progress, 4),
                "eta_seconds": round((estimate - read) / rate, 1) if running else None,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "table", "rows_estimate", "rows_read", "rows_written", "rows_quarantined", "bytes",
            "partitions", "partitions_done", "retries", "seconds", "progress", "eta_seconds",
        ],
    )  # fmt: skip


def throughput(job: JobRecord) -> pd.DataFrame:
    """Rows read over time and the rows/s between samples (from the job's progress series)."""
    points = (job.statistics or {}).get("progress") or []
    frame = pd.DataFrame(points, columns=["seconds", "rows_read"], dtype="float64")
    frame = frame.drop_duplicates("seconds").sort_values("seconds").reset_index(drop=True)
    delta = frame.diff()
    rate = (delta["rows_read"] / delta["seconds"]).where(delta["seconds"] > 0)
    frame["rows_per_second"] = rate.fillna(0.0).round(1)
    return frame


def recent_logs(store: Store, job_id: int, limit: int = 50) -> pd.DataFrame:
    """The job's last log events, newest first."""
    require(store, "read")
    records = jobs.job_logs(store, job_id)[-limit:][::-1]
    return pd.DataFrame(
        [{"at": r.at, "level": r.level, "message": mask_text(r.message)} for r in records],
        columns=["at", "level", "message"],
    )


def quarantined_rows(store: Store, job: JobRecord, limit: int = 200) -> pd.DataFrame:
    """The job's quarantined rows with their errors, read from its target database.

    Viewers see where and why (table, partition, key, column, kind of error), not the rows'
    values; editors and owners see the rows as the job stored them (masked columns masked,
    errors without values)."""
    role = require(store, "read")
    viewer = role == "viewer"
    columns = (
        ["table", "partition", "source_key", "column", "error_kind", "at"]
        if viewer
        else ["table", "partition", "error", "source_key", "row", "at"]
    )
    params = job.parameters or {}
    stats = job.statistics or {}
    if not params.get("sealed") or not params.get("job_key") or not stats.get("rows_quarantined"):
        return pd.DataFrame([], columns=columns)
    payload = store.cipher.decrypt(params["sealed"].encode("ascii"), what="the job's URLs")
    target = json.loads(payload)["target"]
    with psycopg.connect(target, connect_timeout=10) as conn:
        exists = conn.execute("SELECT to_regclass('_workbench.quarantine')").fetchone()
        assert exists is not None  # a SELECT without FROM returns one row
        if exists[0] is None:
            return pd.DataFrame([], columns=columns)
        found = conn.execute(
            "SELECT table_name, partition_index, error, source_key, row_data, at"
            " FROM _workbench.quarantine WHERE job_key = %s ORDER BY id LIMIT %s",
            (params["job_key"], limit),
        ).fetchall()
    rows = []
    for t, p, err, key, data, at in found:
        row = {
            "table": t,
            "partition": p,
            "source_key": json.dumps(key, default=str) if key is not None else "",
            "at": at,
        }
        if viewer:
            row["column"], row["error_kind"] = error_parts(err)
        else:
            row["error"] = mask_text(err)
            row["row"] = mask_text(json.dumps(data, default=str))[:300]
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def quarantine_by_class(store: Store, job: JobRecord, limit: int = 10_000) -> pd.DataFrame:
    """Quarantined rows counted by table, column and kind of error (no values), most first."""
    rows = quarantined_rows(store, job, limit)
    columns = ["table", "column", "error_kind", "rows"]
    if rows.empty:
        return pd.DataFrame([], columns=columns)
    if "error_kind" not in rows:  # editors' rows carry the whole error: classify it
        parts = rows["error"].map(error_parts)
        rows = rows.assign(column=parts.str[0], error_kind=parts.str[1])
    counted = rows.groupby(["table", "column", "error_kind"], as_index=False).size()
    counted = counted.rename(columns={"size": "rows"})
    return counted.sort_values("rows", ascending=False).reset_index(drop=True)[columns]


_COLUMN_IN_ERROR = re.compile(r'column "?(?P<c>[^",:)]+)"?')


def error_parts(error: str) -> tuple[str, str]:
    """(column, kind of error) of a quarantine error, without any value it may quote."""
    head = error.split(" (", 1)[0]
    found = _COLUMN_IN_ERROR.search(error)
    if ": " in head and not head.startswith(("invalid", "null value", "new row", "value")):
        column, kind = head.split(": ", 1)  # a transform's "column: what went wrong"
        return column, kind.split(":", 1)[0]
    return (found["c"] if found else ""), head.split(":", 1)[0]


def dashboard_link(job: JobRecord) -> str | None:
    """The Dask dashboard of the job's cluster (while it runs; a local cluster goes with it)."""
    return (job.statistics or {}).get("dask_dashboard")
