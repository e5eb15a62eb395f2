"""What each table needs once its last partition is in: validation, then its keys and indexes.

Starting this per table while other tables are still copying keeps both cores busy through
the long tail of a job. Per table, the target checksums run before the primary key is built
(ALTER TABLE ... ADD PRIMARY KEY locks the table against reads). Foreign keys, checks,
identities and comments wait for every table; then ANALYZE.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import psycopg
from psycopg import sql

from workbench import telemetry
from workbench.engine import bookkeeping
from workbench.engine.plan import MigrationPlan, TablePlan
from workbench.engine.targets import Unfinished, run_statements, statement_phase, statement_subject
from workbench.engine.validate import (
    PartitionCheck,
    TableCheck,
    ValidationReport,
    ValidationSides,
    check_table,
)
from workbench.errors import JobCancelledError

log = logging.getLogger(__name__)

# a table's tail: its validation, its partitions' checks, the statements that failed
_TailResult = tuple[TableCheck | None, list[PartitionCheck], list[Unfinished]]


class TableTails:
    def __init__(
        self,
        plan: MigrationPlan,
        source_url: str,
        target_url: str,
        post_load: Sequence[str],
        timeout: float,
        *,
        validate: bool,
        finish: bool,
        views: Sequence[tuple[str, str]] = (),
        defer_constraints: bool = False,
    ) -> None:
        self.plan = plan
        self.target_url = target_url
        self.timeout = timeout
        self.validate = validate
        self.finish = finish
        self.views = list(views) if finish else []
        self.remaining = {tp.name: {p.index for p in tp.partitions} for tp in plan.tables}
        idents = {
            sql.Identifier(tp.target_schema, tp.target_name).as_string(None): tp.name
            for tp in plan.tables
        }
        self.early: dict[str, list[str]] = {}  # table -> its keys, uniques and indexes
        self.late: list[str] = []  # foreign keys, checks, identities, comments
        # a followed source changed while it was read: the copy is consistent only once the
        # follower has caught up, so its foreign keys and checks wait for it (engine.follow)
        self.defer_constraints = defer_constraints
        self.deferred: list[str] = []
        for statement in post_load if finish else ():
            subject = statement_subject(statement, {i: (n, n) for i, n in idents.items()})
            if statement_phase(statement) == 0 and subject is not None:
                self.early.setdefault(subject[0], []).append(statement)
            else:
                self.late.append(statement)
        self.sides = ValidationSides(source_url, target_url, timeout) if validate else None
        self.trace_context = telemetry.carrier()  # the tails' spans join the job's trace
        self.checks_pool = ThreadPoolExecutor(2, thread_name_prefix="wb-checksum")
        self.tail_pool = ThreadPoolExecutor(2, thread_name_prefix="wb-tail")
        self.futures: dict[str, Future[_TailResult]] = {}
        self.lock = threading.Lock()
        for name, left in self.remaining.items():
            if not left:
                self._start(name)

    def partition_done(self, table: str, index: int) -> None:
        with self.lock:
            left = self.remaining[table]
            left.discard(index)
            start = not left and table not in self.futures
        if start:
            self._start(table)

    def _start(self, table: str) -> None:
        self.futures[table] = self.tail_pool.submit(self._tail, self.plan.table(table))

    def _tail(self, tp: TablePlan) -> _TailResult:
        check: TableCheck | None = None
        partitions: list[PartitionCheck] = []
        failed: list[Unfinished] = []
        tracer = telemetry.tracer()

        def build_keys() -> None:
            with tracer.start_as_current_span("keys", attributes={"workbench.table": tp.name}):
                failed.extend(
                    run_statements(self.target_url, self.early.get(tp.name, []), self.timeout, 1)
                )

        with telemetry.continued(self.trace_context):
            if self.validate:
                assert self.sides is not None
                with tracer.start_as_current_span("validate", attributes={
                    "workbench.table": tp.name}) as span:  # fmt: skip
                    keys = self._quarantine_keys(tp)
                    check, partitions = check_table(
                        self.checks_pool, self.sides, tp, keys, after_target=build_keys
                    )
                    span.set_attribute("workbench.validation.ok", check.ok)
            else:
                build_keys()
        return check, partitions, failed

    def _quarantine_keys(self, tp: TablePlan) -> dict[tuple[str, int], list[Any]]:
        keys: dict[tuple[str, int], list[Any]] = {}
        with psycopg.connect(self.target_url, connect_timeout=int(self.timeout)) as conn:
            for row in bookkeeping.quarantined(conn, self.plan.job_key, limit=1_000_000):
                if row["table_name"] == tp.name:
                    keys.setdefault((tp.name, row["partition_index"]), []).append(row["source_key"])
        return keys

    def wait(
        self, parallel: int = 2, cancel: threading.Event | None = None
    ) -> tuple[ValidationReport | None, list[Unfinished], list[str], list[tuple[str, str]]]:
        """Finish every table's tail, then the statements that span tables, then ANALYZE,
        then the views.

        Returns the validation, the objects that could not be built (keys, indexes,
        constraints, sequences, comments: the job is incomplete), warnings (ANALYZE) and the
        views that could not be created, with why."""
        missing = [name for name in self.remaining if name not in self.futures]
        for name in missing:  # e.g. a repair that re-copied only some tables
            self._start(name)
        tables, partitions, failed = [], [], []
        warnings: list[str] = []
        try:
            for tp in self.plan.tables:
                future = self.futures[tp.name]
                while not future.done():  # a cancel is heard between checks and key builds
                    if cancel is not None and cancel.is_set():
                        raise JobCancelledError("cancelled while validating and building keys")
                    wait([future], timeout=0.2)  # returns as soon as it is done
                check, parts, fails = future.result()
                if check is not None:
                    tables.append(check)
                partitions += parts
                failed += fails
        finally:
            self.tail_pool.shutdown(wait=True)
            self.checks_pool.shutdown(wait=True)
        if cancel is not None and cancel.is_set():
            raise JobCancelledError("cancelled before the foreign keys were built")
        if self.finish:
            ordered = sorted(self.late, key=lambda s: statement_phase(s) != 1)  # foreign keys first
            if self.defer_constraints:
                self.deferred = [s for s in ordered if statement_phase(s) in (1, 2)]
                ordered = [s for s in ordered if s not in self.deferred]
            with telemetry.tracer().start_as_current_span("foreign_keys"):
                failed += run_statements(self.target_url, ordered, self.timeout, 1)
            analyze = [
                sql.SQL("ANALYZE {}")
                .format(sql.Identifier(tp.target_schema, tp.target_name))
                .as_string(None)
                for tp in self.plan.tables
            ]
            warnings += [
                f"{u.statement} failed: {u.error}"
                for u in run_statements(self.target_url, analyze, self.timeout, parallel)
            ]
        report = (
            ValidationReport(all(t.ok for t in tables), tables, partitions)
            if self.validate
            else None
        )
        return report, failed, warnings, self._create_views()

    def _create_views(self) -> list[tuple[str, str]]:
        """Create the translated views; a view over another view may need a second round."""
        pending = list(self.views)
        while pending:
            failed = run_statements(self.target_url, [s for _, s in pending], self.timeout, 1)
            still = {u.statement: u.error for u in failed}
            if len(still) == len(pending):  # no progress: these cannot be created
                return [
                    (label, f"translated, but PostgreSQL refused it: {still[s]}")
                    for label, s in pending
                ]
            pending = [(label, s) for label, s in pending if s in still]
        return []

    def close(self) -> None:
        self.tail_pool.shutdown(wait=False, cancel_futures=True)
        self.checks_pool.shutdown(wait=False, cancel_futures=True)
