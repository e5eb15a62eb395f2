"""Cut-over: the moment a followed source's writes stop and the target takes over.

In order: the source is made read-only (optional: `SET GLOBAL read_only = ON`, which stops
every login without the admin privilege, as applications' logins are), the follower applies
what is left until it has caught up (and builds the constraints the copy left: foreign keys,
checks, sequences past their maxima), the whole job is validated (row counts and checksums
per partition, now that the source no longer moves), and the write-downtime window is
measured from the moment the source stopped taking writes. A mismatch stops the cut-over
with the tables and partitions named (``ValidationFailedError``): the applications must not
be pointed at the target yet.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.connectors import connect
from workbench.connectors.changes import Position
from workbench.engine import records
from workbench.engine.follow import end_position, follow_job
from workbench.engine.repair import validate_job
from workbench.engine.validate import validation_failed
from workbench.errors import InvalidInputError
from workbench.store import jobs

MAX_ROUNDS = 50  # follower runs to catch up once writes have stopped (each ends at the log's end)


@dataclass
class CutoverResult:
    job_id: int
    source_read_only: bool
    changes_applied: int = 0
    validated: bool = False
    tables: int = 0
    # from the moment the source stopped taking writes to the validated target
    downtime_seconds: float | None = None
    seconds: float = 0.0
    constraints_failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _set_read_only(source_url: str, timeout: float, options: dict[str, Any]) -> None:
    connector = connect(source_url, connect_timeout=timeout, options=options)
    try:
        connector.make_read_only()
    finally:
        connector.close()


def cutover(store: Any, job_id: int, *, read_only: bool = False) -> CutoverResult:
    """Stop the source's writes (``read_only``), catch up, validate; see the module's doc."""
    started = time.monotonic()
    job = records.load_job(store, job_id, "cut over")
    result = CutoverResult(job_id, read_only)
    frozen_at = None
    if read_only:
        _set_read_only(job.source_url, store.settings.connect_timeout, job.options.source_options)
        frozen_at = time.monotonic()
        jobs.log_event(store, job_id, "INFO", "Cut-over: the source is read-only")
    for _ in range(MAX_ROUNDS):
        followed = follow_job(store, job_id)
        result.changes_applied += followed.changes
        result.constraints_failed += followed.constraints_failed
        if followed.caught_up and (frozen_at is not None or followed.changes == 0):
            break
    else:
        raise InvalidInputError(
            f"Job {job_id}'s follower did not catch up in {MAX_ROUNDS} rounds: the source still "
            "takes writes. Stop them (or cut over with --read-only), then run the cut-over again."
        )
    report = validate_job(job_id, store=store)
    result.tables = len(report.tables)
    if not report.ok:
        raise validation_failed(job_id, report)
    result.validated = True
    begin = jobs.get_job(store, job_id).statistics.get("follow_from")
    if begin:  # the target has taken over: what following held on the source goes
        end_position(job.source_url, store.settings.connect_timeout, job.options.source_options,
                     Position(begin["file"], int(begin["offset"])))  # fmt: skip
    if frozen_at is not None:
        result.downtime_seconds = round(time.monotonic() - frozen_at, 3)
    result.seconds = round(time.monotonic() - started, 3)
    jobs.update_job_statistics(store, job_id, {"cutover": result.as_dict()})
    jobs.log_event(store, job_id, "INFO", f"Cut-over done: validated {result.tables} table(s)"
                   + (f", writes stopped for {result.downtime_seconds:.1f} s"
                      if result.downtime_seconds is not None else ""))  # fmt: skip
    return result
