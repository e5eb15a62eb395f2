"""Cut-over: the moment a followed source's writes stop and the target takes over.

In order: the follower catches up while the source still takes writes, and every partition
is checked (row counts and checksums) then; the source is made read-only (optional: MySQL
`SET GLOBAL read_only = ON`, PostgreSQL read-only sessions: the applications' logins stop
writing); the follower applies what is left until it has caught up (and builds the
constraints the copy left: foreign keys, checks, sequences past their maxima); then, with
the source standing still, the partitions that differed during the live check and those
holding a key any change touched since (the change stream names every one) are checked
again, and every table's whole row count is compared. A partition no change touched holds
what it held when it was checked, on both sides: the write-downtime window then grows with
the changes of the last minutes, not with the size of the database (``full_check`` checks
every partition again instead). The window is measured from the moment the source stopped
taking writes. A mismatch stops the cut-over with the tables and partitions named
(``ValidationFailedError``): the applications must not be pointed at the target yet.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from workbench.connectors import connect
from workbench.connectors.base import Partition
from workbench.connectors.changes import Position
from workbench.engine import records
from workbench.engine.follow import end_position, follow_job
from workbench.engine.plan import MigrationPlan, TablePlan
from workbench.engine.repair import record_validation, replan
from workbench.engine.targets import run_statements
from workbench.engine.validate import (
    ValidationReport,
    count_mismatches,
    validate_job_plan,
    validation_failed,
)
from workbench.errors import InvalidInputError
from workbench.store import jobs
from workbench.store.access import require

MAX_ROUNDS = 50  # follower runs to catch up once writes have stopped (each ends at the log's end)
SETTLED = 2.0  # seconds: a live catch-up round this short leaves a small backlog for the freeze


@dataclass
class CutoverResult:
    job_id: int
    source_read_only: bool
    changes_applied: int = 0
    validated: bool = False
    tables: int = 0
    # from the moment the source stopped taking writes to the validated target
    downtime_seconds: float | None = None
    partitions_rechecked: int = 0  # checked again after the writes stopped
    steps: dict[str, float] = field(default_factory=dict)  # seconds of each step after the freeze
    seconds: float = 0.0
    constraints_failed: list[str] = field(default_factory=list)
    sequences_set: int = 0  # sequences moved past the rows followed, for the applications

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _set_read_only(source_url: str, timeout: float, options: dict[str, Any]) -> None:
    connector = connect(source_url, connect_timeout=timeout, options=options)
    try:
        connector.make_read_only()
    finally:
        connector.close()


def cutover(
    store: Any, job_id: int, *, read_only: bool = False, full_check: bool = False
) -> CutoverResult:
    """Stop the source's writes (``read_only``), catch up, validate; see the module's doc.
    ``full_check``: check every partition again once writes have stopped (a longer window)."""
    started = time.monotonic()
    job = records.load_job(store, job_id, "cut over")
    require(store, "edit", f"cut over job {job_id}")
    timeout = store.settings.connect_timeout
    result = CutoverResult(job_id, read_only)
    # while the source still takes writes: catch up, then check every partition, so that
    # once it stops only what moved since (and what differed) is checked again
    result.changes_applied += follow_job(store, job_id).changes
    plan, source_url, target_url, _ = replan(store, job_id, "cut over")
    early = validate_job_plan(plan, source_url, target_url, timeout, whole_counts=False)
    early_counts = count_mismatches(plan, source_url, target_url, timeout)
    # what was written during that check is applied while writes still go on, round after
    # round, until a round is short: the backlog left for the frozen source is then seconds
    touched: dict[str, set[tuple[Any, ...]]] = {}
    for _ in range(MAX_ROUNDS):
        began = time.monotonic()
        followed = follow_job(store, job_id, touched=touched)
        result.changes_applied += followed.changes
        if followed.caught_up and (time.monotonic() - began < SETTLED or not followed.changes):
            break
    frozen_at = None
    if read_only:
        _set_read_only(job.source_url, timeout, job.options.source_options)
        frozen_at = time.monotonic()
        jobs.log_event(store, job_id, "INFO", "Cut-over: the source is read-only")
    step = time.monotonic()
    for _ in range(MAX_ROUNDS):
        followed = follow_job(store, job_id, touched=touched)
        result.changes_applied += followed.changes
        result.constraints_failed += followed.constraints_failed
        if followed.caught_up and (frozen_at is not None or followed.changes == 0):
            break
    else:
        raise InvalidInputError(
            f"Job {job_id}'s follower did not catch up in {MAX_ROUNDS} rounds: the source still "
            "takes writes. Stop them (or cut over with --read-only), then run the cut-over again."
        )
    # the applications' inserts go on from the target's sequences: past every row followed
    sequences = jobs.get_job(store, job_id).statistics.get("sequences") or []
    stuck = run_statements(target_url, sequences, timeout, 1)
    result.constraints_failed += [f"{u.statement}: {u.error}" for u in stuck]
    result.sequences_set = len(sequences) - len(stuck)
    step = _lap(result, "catch_up", step)
    again = plan if full_check else recheck(plan, early, touched)
    result.partitions_rechecked = sum(len(tp.partitions) for tp in again.tables)
    late = validate_job_plan(again, source_url, target_url, timeout, whole_counts=False)
    step = _lap(result, "check_again", step)
    # whole counts again where the live ones cannot stand: tables changed since, or differing
    recount = set(touched) | set(early_counts)
    counted = replace(plan, tables=[tp for tp in plan.tables
                                    if full_check or tp.source.name in recount
                                    or tp.name in recount])  # fmt: skip
    counts = count_mismatches(counted, source_url, target_url, timeout)
    _lap(result, "counts", step)
    report = merged(early, late, counts)
    record_validation(store, job_id, report)
    result.tables = len(report.tables)
    if not report.ok:
        raise validation_failed(job_id, report)
    result.validated = True
    begin = jobs.get_job(store, job_id).statistics.get("follow_from")
    if begin:  # the target has taken over: what following held on the source goes
        end_position(job.source_url, timeout, job.options.source_options,
                     Position(begin["file"], int(begin["offset"])))  # fmt: skip
    if frozen_at is not None:
        result.downtime_seconds = round(time.monotonic() - frozen_at, 3)
    result.seconds = round(time.monotonic() - started, 3)
    jobs.update_job_statistics(store, job_id, {"cutover": result.as_dict()})
    jobs.log_event(store, job_id, "INFO", f"Cut-over done: validated {result.tables} table(s)"
                   + (f", writes stopped for {result.downtime_seconds:.1f} s"
                      if result.downtime_seconds is not None else ""))  # fmt: skip
    return result


def _lap(result: CutoverResult, name: str, since: float) -> float:
    now = time.monotonic()
    result.steps[name] = round(now - since, 3)
    return now


def recheck(
    plan: MigrationPlan, early: ValidationReport, touched: dict[str, set[tuple[Any, ...]]]
) -> MigrationPlan:
    """The partitions to check again once the source stands still: those that differed while
    it was written to, and those holding a key a change touched since (whole tables where a
    key cannot be placed exactly: keys other than whole numbers, or partitions cut on
    another column than the key)."""
    differed = {(p.table, p.index) for p in early.partitions if not p.ok}
    differed |= {(t.table, i) for t in early.tables if not t.per_partition and not t.ok
                 for i in t.mismatched_partitions}  # fmt: skip
    tables = []
    for tp in plan.tables:
        keys = touched.get(tp.source.name, set())
        chosen = [p for p in tp.partitions if (tp.name, p.index) in differed]
        if keys:
            chosen += [p for p in tp.partitions if p not in chosen and _holds_any(tp, p, keys)]
        if chosen:
            tables.append(replace(tp, partitions=sorted(chosen, key=lambda p: p.index)))
    return replace(plan, tables=tables)


def _holds_any(tp: TablePlan, p: Partition, keys: set[tuple[Any, ...]]) -> bool:
    if p.is_whole_table:
        return True
    exact = p.key_columns == tp.key_columns and all(
        isinstance(v, int) and not isinstance(v, bool)
        for bound in (p.lower or (), p.upper or ())
        for v in bound
    )
    if not exact:
        return True  # cannot tell: check it
    for key in keys:
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in key):
            return True
        if (p.lower is None or key >= p.lower) and (p.upper is None or key < p.upper):
            return True
    return False


def merged(
    early: ValidationReport, late: ValidationReport, counts: dict[str, str]
) -> ValidationReport:
    """The cut-over's verdict: each partition as last checked, and the whole tables' counts."""
    last = {(p.table, p.index): p for p in early.partitions}
    last.update({(p.table, p.index): p for p in late.partitions})
    rechecked = {t.table: t for t in late.tables}
    tables = []
    for t in early.tables:
        now = rechecked.get(t.table)
        if now is not None and not now.per_partition:  # compared as a whole: the late verdict
            table = replace(now, source_rows=t.source_rows, target_rows=t.target_rows)
        else:
            parts = [p for (name, _), p in last.items() if name == t.table]
            bad = sorted(p.index for p in parts if not p.ok)
            table = replace(
                t,
                mismatched_partitions=bad,
                reasons=[f"partition {p.index}: {p.reason}" for p in parts if not p.ok],
            )
        if t.table in counts:
            table.reasons.insert(0, counts[t.table])
        table.ok = not table.reasons
        tables.append(table)
    return ValidationReport(all(t.ok for t in tables), tables, list(last.values()))
