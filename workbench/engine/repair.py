"""Validate a job again after the fact, and repair it: re-copy only what differs.

Repair deletes the target rows of each mismatching partition (by the partition's key range,
or the whole table when its keys cannot be compared range by range), forgets those
partitions' checkpoints and quarantined rows in the same transaction, copies them again on
Dask exactly once, then validates again.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

from workbench.connectors import connect
from workbench.connectors.sqltext import partition_predicate, where
from workbench.engine import bookkeeping, records
from workbench.engine.cluster import dask_client, sealing_key
from workbench.engine.copy import PartitionResult, PartitionTask
from workbench.engine.execute import DaskRunner, ErrorBudget, run_partitions, throttled
from workbench.engine.lineage import plan_lineage
from workbench.engine.options import CopyOptions
from workbench.engine.plan import MigrationPlan, TablePlan, plan_job
from workbench.engine.progress import NullProgress, ProgressSink
from workbench.engine.run import mask_salt, partition_task
from workbench.engine.target_lock import TargetLock
from workbench.engine.validate import (
    TableCheck,
    ValidationReport,
    target_partition,
    validate_job_plan,
)
from workbench.governance.lineage import LineageRecord, save_lineage
from workbench.store import Store, jobs, open_store
from workbench.store.access import require

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)


def replan(
    store: Store, job_id: int, doing: str = "validated or repaired again"
) -> tuple[MigrationPlan, str, str, CopyOptions]:
    """Job ``job_id``'s plan made again from its source as it is now (``doing`` names what
    is being done with it in the errors), its URLs and options."""
    job = records.load_job(store, job_id, doing)
    source = connect(job.source_url, connect_timeout=store.settings.connect_timeout,
                     options=job.options.source_options)  # fmt: skip
    try:
        plan = plan_job(source, job.options, job.job_key, jobs.job_checkpoints(store, job_id))
        plan.salt = mask_salt(store, job_id)
    finally:
        source.close()
    return plan, job.source_url, job.target_url, job.options


def _clear(
    conn: psycopg.Connection, plan: MigrationPlan, tp: TablePlan, check: TableCheck
) -> list[int]:
    """Delete what the target holds for the mismatching partitions; return their indexes."""
    indexes = sorted(set(check.mismatched_partitions))
    target = sql.Identifier(tp.target_schema, tp.target_name)
    with conn.transaction():
        try:  # foreign keys of other tables must not block re-copying rows that they reference
            conn.execute("SET LOCAL session_replication_role = replica")
        except psycopg.errors.InsufficientPrivilege:
            log.warning("cannot disable foreign key triggers; repair may fail on referenced rows")
        if check.per_partition:
            for p in tp.partitions:
                if p.index in indexes:
                    predicate, params = partition_predicate(target_partition(tp, p), "postgresql")
                    conn.execute(
                        sql.SQL("DELETE FROM {}").format(target) + sql.SQL(where(predicate)), params
                    )
        else:
            indexes = [p.index for p in tp.partitions]
            conn.execute(sql.SQL("DELETE FROM {}").format(target))
        bookkeeping.forget_checkpoints(conn, plan.job_key, tp.name, indexes)
        conn.execute(
            "DELETE FROM _workbench.quarantine WHERE job_key = %s AND table_name = %s"
            " AND partition_index = ANY(%s)",
            (plan.job_key, tp.name, indexes),
        )
    return indexes


def validate_job(
    job_id: int,
    *,
    store: Store | None = None,
    repair: bool = False,
    progress: ProgressSink | None = None,
    client: Client | None = None,
) -> ValidationReport:
    """Validate job ``job_id`` again; with ``repair``, re-copy mismatching partitions first
    (on ``client``, a caller's ``distributed.Client``, when given)."""
    own = store is None
    store = store or open_store()
    progress = progress or NullProgress()
    try:
        require(store, "edit", f"validate job {job_id}")
        plan, source_url, target_url, options = replan(store, job_id)
        timeout = store.settings.connect_timeout
        jobs.log_event(
            store, job_id, "INFO", "Validating again" + (" with repair" if repair else "")
        )
        report = validate_job_plan(plan, source_url, target_url, timeout)
        if report.ok or not repair:
            record_validation(store, job_id, report)
            return report
        lock = TargetLock(target_url, timeout, job_id, plan.job_key)
        lock.acquire([(tp.target_schema, tp.target_name) for tp in plan.tables])
        try:
            return _repair(
                store, job_id, plan, report, source_url, target_url, options, progress, client
            )
        finally:
            lock.release()
    finally:
        progress.close()
        if own:
            store.close()


def _repair(
    store: Store,
    job_id: int,
    plan: MigrationPlan,
    report: ValidationReport,
    source_url: str,
    target_url: str,
    options: CopyOptions,
    progress: ProgressSink,
    client: Client | None = None,
) -> ValidationReport:
    """Re-copy the partitions ``report`` found different, then validate again."""
    timeout = store.settings.connect_timeout
    tasks: list[PartitionTask] = []
    with psycopg.connect(target_url, connect_timeout=int(timeout)) as conn:
        for check in report.mismatched:
            tp = plan.table(check.table)
            redo = _clear(conn, plan, tp, check)
            tasks += [
                partition_task(plan, tp, p, source_url, target_url, options, timeout)
                for p in tp.partitions
                if p.index in redo
            ]
    jobs.log_event(
        store,
        job_id,
        "WARNING",
        f"Repair: re-copying {len(tasks)} partitions",
        partitions=[t.partition.label for t in tasks],
    )
    recorder = records.JobRecorder(store, job_id, {tp.name: 0 for tp in plan.tables})

    def on_result(task: PartitionTask, result: PartitionResult) -> None:
        recorder.add(task.table.qualified_name, result.as_dict())
        progress.advance(task.table.qualified_name, result.rows_read)

    progress.start(job_id, {t.table.qualified_name: 0 for t in tasks})
    budget = ErrorBudget(options.max_bad_rows, options.max_bad_ratio)
    address = options.dask_address or store.settings.dask_address
    key = sealing_key(client is None and not address, {"source": source_url, "target": target_url})
    with contextlib.ExitStack() as stack:
        if client is None:
            client = stack.enter_context(dask_client(address, options.workers))
        runner = DaskRunner(client, key)
        tasks = throttled(tasks, options.max_rows_per_second, runner.slots())
        # keys of their own: the copy's keys may still be held by the caller's client, and
        # Dask would return the copy's results instead of copying again (seen: an emptied
        # partition left empty)
        prefix = f"repair-{uuid.uuid4().hex[:8]}"
        run_partitions(runner, tasks, on_result, budget, key_prefix=prefix)
    report = validate_job_plan(plan, source_url, target_url, timeout)
    record_validation(store, job_id, report)
    return report


def record_validation(store: Store, job_id: int, report: ValidationReport) -> None:
    """The job's validation verdict in its statistics and log."""
    jobs.update_job_statistics(
        store, job_id, {"validation": report.as_dict(), "validated": report.ok}
    )
    level = "INFO" if report.ok else "ERROR"
    text = (
        "Validation passed"
        if report.ok
        else "Validation failed: "
        + "; ".join(f"{t.table}: {', '.join(t.reasons[:2])}" for t in report.mismatched)
    )
    jobs.log_event(store, job_id, level, text)


def record_lineage(store: Store, job_id: int) -> list[LineageRecord]:
    """Derive the job's lineage from its plan and store it (replacing earlier rows).

    Jobs record their lineage on their own when their plan is known (engine ``run``); this
    derives it again for a job recorded before that, or after its mapping was repaired.
    """
    require(store, "edit", f"record the lineage of job {job_id}")
    plan, _, _, options = replan(store, job_id)  # refuses another organization's job
    return save_lineage(store, job_id, plan_lineage(job_id, plan, options))
