"""Job metrics in Prometheus text format, read from the store at every scrape.

Per job (labels job_id, project, kind, status): rows read / copied / quarantined, bytes,
retries, errors (log events at ERROR level, plus 1 for a failed job), duration and rows/s;
per job and table: rows read / written / quarantined, bytes, retries, seconds; per followed
job: seconds behind the source, changes applied, changes per second. Only the
newest ``limit`` jobs are exported, so the series stay bounded.

    workbench metrics serve --port 9464        # then scrape http://host:9464/metrics
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from workbench.monitoring import views
from workbench.store import Store, jobs

PREFIX = "workbench"
JOB_LABELS = ["job_id", "project", "kind", "status"]
JOB_GAUGES = {
    "rows_read": "Rows read from the source",
    "rows_copied": "Rows written to the target",
    "rows_quarantined": "Rows set aside in quarantine",
    "bytes": "Bytes written to the target",
    "retries": "Partition retries",
    "seconds": "Duration of the job in seconds (so far, while running)",
    "rows_per_second": "Rows read per second",
}
# a followed copy (engine.follow): the follower's last run
FOLLOW_GAUGES = {
    "seconds_behind": "Seconds between now and the source's last applied commit, at the last run",
    "changes_total": "Row changes applied by the job's follower, all runs",
    "changes_per_second": "Row changes applied per second in the follower's last run",
    "changes_behind": "Row changes read from the source and not yet applied, at the last update",
}
TABLE_GAUGES = {
    "rows_read": "Rows of the table read",
    "rows_written": "Rows of the table written",
    "rows_quarantined": "Rows of the table quarantined",
    "bytes": "Bytes of the table written",
    "retries": "Partition retries of the table",
    "seconds": "Seconds spent copying the table's partitions",
}


class JobCollector(Collector):
    """A Prometheus collector over the store's newest jobs."""

    def __init__(self, store: Store, project: str | None = None, limit: int = 50) -> None:
        self.store = store
        self.project = project
        self.limit = limit

    def collect(self) -> Iterator[GaugeMetricFamily]:
        names = views.project_names(self.store)
        records = jobs.list_jobs(self.store, self.project, self.limit)
        job_families = {
            key: GaugeMetricFamily(f"{PREFIX}_job_{key}", text, labels=JOB_LABELS)
            for key, text in JOB_GAUGES.items()
        }
        errors = GaugeMetricFamily(
            f"{PREFIX}_job_errors",
            "Error events of the job (a failed job counts one)",
            labels=JOB_LABELS,
        )
        tables = {
            key: GaugeMetricFamily(f"{PREFIX}_table_{key}", text, labels=["job_id", "table"])
            for key, text in TABLE_GAUGES.items()
        }
        follow = {
            key: GaugeMetricFamily(f"{PREFIX}_follow_{key}", text, labels=JOB_LABELS)
            for key, text in FOLLOW_GAUGES.items()
        }
        for job in records:
            row = views.job_row(job, names.get(job.project_id, ""))
            labels = [str(job.id), row["project"], job.kind, job.status]
            for key, family in job_families.items():
                family.add_metric(labels, float(row[key]))
            logged = sum(
                1 for r in jobs.job_logs(self.store, job.id) if r.level in ("ERROR", "CRITICAL")
            )
            errors.add_metric(labels, float(max(logged, 1 if job.status == "failed" else 0)))
            followed = (job.statistics or {}).get("follow")
            if followed:
                took = float(followed.get("seconds") or 0)
                values = {
                    "seconds_behind": followed.get("seconds_behind"),
                    "changes_total": followed.get("changes_total"),
                    "changes_per_second": (followed.get("changes") or 0) / took if took else 0,
                    "changes_behind": followed.get("changes_behind"),
                }
                for key, family in follow.items():
                    if values[key] is not None:
                        family.add_metric(labels, float(values[key]))
            for name, stats in (job.statistics or {}).get("tables", {}).items():
                for key, family in tables.items():
                    family.add_metric([str(job.id), name], float(stats.get(key) or 0))
        yield from job_families.values()
        yield errors
        yield from tables.values()
        yield from follow.values()


def registry(store: Store, project: str | None = None, limit: int = 50) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(JobCollector(store, project, limit))
    return reg


def render(store: Store, project: str | None = None, limit: int = 50) -> str:
    """The metrics as Prometheus text (what ``/metrics`` answers)."""
    return generate_latest(registry(store, project, limit)).decode("utf-8")


def serve(
    store: Store, port: int = 9464, address: str = "127.0.0.1", **kwargs: Any
) -> tuple[Any, Any]:
    """Serve ``/metrics`` over HTTP in a daemon thread; returns (server, thread)."""
    return start_http_server(port, addr=address, registry=registry(store, **kwargs))
