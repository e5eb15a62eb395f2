"""A job's performance report: where its time went and what would make the next run faster.

Read from what the job recorded (``store.jobs`` statistics): time by phase (plan, copy,
finish = keys, indexes and validation), per table the rows and bytes moved, the partitions'
time and how much of it they spent waiting on the source versus transforming and writing into
the target (``engine.copy`` measures both), so each table is called source-bound or
target-bound; then concrete recommendations from a few rules, each naming its evidence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from workbench import render
from workbench.store import Store, jobs

PHASE_ORDER = ("plan", "copy", "finish", "done")
BOUND_MARGIN = 1.25  # one side's time at least this many times the other's: bound by it


@dataclass
class TablePerformance:
    table: str
    rows: int
    bytes: int
    partitions: int
    seconds: float  # the partitions' time, summed (worker time)
    read_seconds: float
    write_seconds: float

    @property
    def rows_per_second(self) -> float | None:
        return self.rows / self.seconds if self.seconds > 0 else None

    @property
    def bytes_per_second(self) -> float | None:
        return self.bytes / self.seconds if self.seconds > 0 else None

    @property
    def bound(self) -> str:
        """source, target, balanced, or unknown (a job before these were measured)."""
        if self.read_seconds <= 0 and self.write_seconds <= 0:
            return "unknown"
        if self.read_seconds >= BOUND_MARGIN * self.write_seconds:
            return "source"
        if self.write_seconds >= BOUND_MARGIN * self.read_seconds:
            return "target"
        return "balanced"


@dataclass
class PerformanceReport:
    job_id: int
    status: str
    seconds: float | None
    rows: int
    phases: dict[str, float]
    tables: list[TablePerformance]
    recommendations: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for t, d in zip(self.tables, data["tables"], strict=True):
            d.update(
                rows_per_second=t.rows_per_second,
                bytes_per_second=t.bytes_per_second,
                bound=t.bound,
            )
        return data

    def rows_for_people(self) -> list[dict[str, Any]]:
        return [
            {
                "table": t.table,
                "rows": t.rows,
                "MB": render.number(t.bytes / 1e6, 1),
                "partitions": t.partitions,
                "seconds": render.seconds(t.seconds),
                "rows/s": render.number(t.rows_per_second),
                "MB/s": render.number((t.bytes_per_second or 0) / 1e6, 1)
                if t.bytes_per_second is not None
                else None,
                "bound by": t.bound,
            }
            for t in self.tables
        ]

    def text(self) -> str:
        phases = ", ".join(f"{k} {render.seconds(v)}" for k, v in self.phases.items())
        lines = [
            f"Job {self.job_id} ({self.status}): {render.number(self.rows)} rows in "
            f"{render.seconds(self.seconds)}" + (f"; {phases}" if phases else ""),
            render.table_text(self.rows_for_people(), COLUMNS),
        ]
        if self.recommendations:
            lines.append("Recommendations:")
            lines += [f"- {r}" for r in self.recommendations]
        return "\n".join(lines)


COLUMNS = ["table", "rows", "MB", "partitions", "seconds", "rows/s", "MB/s", "bound by"]


def job_performance(store: Store, job_id: int) -> PerformanceReport:
    """The performance report of job ``job_id`` from its recorded statistics."""
    record = jobs.get_job(store, job_id)
    stats = record.statistics or {}
    tables = [
        TablePerformance(
            table=name,
            rows=int(t.get("rows_written") or 0),
            bytes=int(t.get("bytes") or 0),
            partitions=int(t.get("partitions") or t.get("partitions_done") or 0),
            seconds=float(t.get("seconds") or 0.0),
            read_seconds=float(t.get("read_seconds") or 0.0),
            write_seconds=float(t.get("write_seconds") or 0.0),
        )
        for name, t in (stats.get("tables") or {}).items()
    ]
    tables.sort(key=lambda t: -t.seconds)
    report = PerformanceReport(
        job_id=job_id,
        status=record.status,
        seconds=stats.get("seconds"),
        rows=int(stats.get("rows_copied") or 0),
        phases={
            k: float(v)
            for k, v in sorted(
                (stats.get("phases") or {}).items(),
                key=lambda kv: PHASE_ORDER.index(kv[0]) if kv[0] in PHASE_ORDER else 99,
            )
        },
        tables=tables,
    )
    report.recommendations = recommendations(report, record.parameters or {})
    return report


def recommendations(report: PerformanceReport, parameters: dict[str, Any]) -> list[str]:
    """What to change, each with the figures that call for it."""
    out: list[str] = []
    options = parameters.get("options") or {}
    total = sum(report.phases.values())
    copy_time = report.phases.get("copy", 0.0)
    finish = report.phases.get("finish", 0.0)
    if total > 0 and finish / total > 0.4:
        what = "keys, indexes and validation" if options.get("validate", True) else "keys, indexes"
        out.append(
            f"The finish phase ({what}) took {render.seconds(finish)}, "
            f"{finish / total:.0%} of the job: validation hashes every row on both servers; "
            "skip it with --no-validate for trial runs (keep it for the real move), and give "
            "the target more maintenance_work_mem for index builds (workbench doctor --project "
            "shows the server's settings)."
        )
    worker_time = sum(t.seconds for t in report.tables)
    for t in report.tables[:3]:
        if worker_time <= 0 or t.seconds / worker_time < 0.3:
            continue
        share = t.seconds / worker_time
        if t.partitions <= 1 and t.rows > 100_000:
            out.append(
                f"{t.table} was copied as one partition ({render.number(t.rows)} rows, "
                f"{render.seconds(t.seconds)}, {share:.0%} of the workers' time): a smaller "
                "--partition-rows (or a key on the table) splits it across workers."
            )
        elif t.bound == "source":
            out.append(
                f"Reading {t.table} bound the job ({render.seconds(t.read_seconds)} waiting "
                f"on the source vs {render.seconds(t.write_seconds)} writing): more partitions "
                "in flight (--max-connections) help while the source has idle CPU; an index "
                "on the partition key makes its range reads cheaper."
            )
        elif t.bound == "target":
            out.append(
                f"Writing {t.table} bound the job ({render.seconds(t.write_seconds)} writing "
                f"vs {render.seconds(t.read_seconds)} waiting on the source): the target's "
                "max_wal_size and checkpoint settings, and its CPU, set the pace; more "
                "parallel partitions help only while it has idle cores."
            )
    partitions = sum(t.partitions for t in report.tables)
    slots = options.get("max_connections") or options.get("workers")
    if slots and partitions and partitions < 2 * int(slots) and copy_time > 10:
        out.append(
            f"Only {partitions} partitions for {slots} parallel slots: a smaller "
            "--partition-rows keeps every worker busy to the end."
        )
    return out
