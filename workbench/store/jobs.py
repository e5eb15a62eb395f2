"""Migration jobs as the engine records them: status, statistics, log events, checkpoints.

Plain functions taking the open store first. Each runs as one short transaction on its own
pooled connection, so Dask callbacks and threads may call them at the same time. Values
stored as JSON are redacted (URL passwords masked; secret-looking keys only where the keys
are ours, never in options or statistics keyed by user-chosen table and column names);
checkpoint bounds are stored as given, converted to JSON (tuples become lists, dates ISO text).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Select, Table, bindparam, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from workbench.errors import InvalidInputError, NotFoundError
from workbench.store.access import require
from workbench.store.audit import record_event
from workbench.store.models import (
    JOB_KINDS,
    JOB_STATUSES,
    JOB_TERMINAL_STATUSES,
    MigrationJob,
    MigrationLog,
    PartitionCheckpoint,
    Project,
)
from workbench.store.projects import ProjectRef, project_row, require_active
from workbench.store.redact import jsonable, redact
from workbench.urls import mask_text

if TYPE_CHECKING:
    from workbench.store.handle import Store

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_CHECKPOINT_KEY = ("table_name", "partition_index")
CHECKPOINT_COLUMNS = tuple(
    c.name for c in PartitionCheckpoint.__table__.columns if c.name != "job_id"
)


@dataclass(frozen=True)
class JobRecord:
    id: int
    project_id: int
    kind: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    created_by: str
    parameters: dict[str, Any]
    statistics: dict[str, Any]
    error: str | None
    fingerprint: str | None
    source_connection_id: int | None
    target_connection_id: int | None

    @property
    def is_terminal(self) -> bool:
        return self.status in JOB_TERMINAL_STATUSES

    def to_dict(self) -> dict[str, Any]:
        # jsonable copies as it converts: asdict's deep copy of the statistics first would
        # double the cost of the API's most frequent answer
        return jsonable({f.name: getattr(self, f.name) for f in fields(self)})


@dataclass(frozen=True)
class LogRecord:
    id: int
    job_id: int
    at: datetime
    level: str
    message: str
    context: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))


def create_job(
    store: Store,
    project_id: ProjectRef,
    kind: str,
    parameters: dict[str, Any],
    fingerprint: str | None = None,
    source_connection_id: int | None = None,
    target_connection_id: int | None = None,
) -> int:
    """Record a new pending job; returns its id. ``parameters`` are stored redacted."""
    require(store, "edit")
    if kind not in JOB_KINDS:
        raise InvalidInputError(f"A job's kind is one of {', '.join(JOB_KINDS)}, got {kind!r}")
    # top-level keys are ours; below them options hold user names (a column called "password")
    params = redact(parameters or {}, key_depth=1)
    with store.session() as session:
        project = project_row(session, store, project_id)
        require_active(project)
        job = MigrationJob(
            project_id=project.id,
            kind=kind,
            created_by=store.user,
            parameters=params,
            fingerprint=fingerprint,
            source_connection_id=source_connection_id,
            target_connection_id=target_connection_id,
        )
        session.add(job)
        project_name = project.name  # the failed flush below expires loaded rows
        try:
            session.flush()
        except IntegrityError as exc:  # a connection id that does not exist
            raise NotFoundError(
                f"Cannot create a {kind} job in project {project_name!r}: source or target "
                f"connection id ({source_connection_id}, {target_connection_id}) does not exist",
                project=project_name,
            ) from exc
        record_event(
            session,
            store,
            "job.create",
            object_type="migration_job",
            object_id=job.id,
            object_name=f"{kind} #{job.id}",
            project_id=project.id,
            kind=kind,
            parameters=params,
        )
        return job.id


def set_job_status(store: Store, job_id: int, status: str, error: str | None = None) -> None:
    """Move a job to ``status``: running sets started_at (and clears finished_at and error);
    succeeded, failed and cancelled set finished_at."""
    require(store, "edit")
    if status not in JOB_STATUSES:
        raise InvalidInputError(
            f"A job's status is one of {', '.join(JOB_STATUSES)}, got {status!r}"
        )
    values: dict[str, Any] = {"status": status, "error": mask_text(error) if error else None}
    now = func.now()
    if status == "running":
        values.update(started_at=now, finished_at=None, heartbeat_at=now)
    elif status in JOB_TERMINAL_STATUSES:
        values.update(finished_at=now, heartbeat_at=now)
    with store.session() as session:
        project_id = session.scalar(
            update(MigrationJob)
            .where(MigrationJob.id == job_id, MigrationJob.project_id.in_(_org_projects(store)))
            .values(**values)
            .returning(MigrationJob.project_id)
        )
        if project_id is None:
            raise _missing(job_id)
        if status == "cancelled":
            record_event(
                session,
                store,
                "job.cancel",
                object_type="migration_job",
                object_id=job_id,
                project_id=project_id,
            )


def update_job_statistics(store: Store, job_id: int, statistics: dict[str, Any]) -> None:
    """Merge ``statistics`` into the job's (top-level keys replace) and bump heartbeat_at."""
    require(store, "edit")
    patch = literal(redact(statistics, key_depth=1), JSONB)
    with store.session() as session:
        found = session.scalar(
            update(MigrationJob)
            .where(MigrationJob.id == job_id)
            .values(statistics=MigrationJob.statistics.op("||")(patch), heartbeat_at=func.now())
            .returning(MigrationJob.id)
        )
    if found is None:
        raise _missing(job_id)


def log_event(store: Store, job_id: int, level: str | int, message: str, **context: Any) -> int:
    """Append an event to the job's log (what users see); returns the event id."""
    require(store, "edit")
    level_name = logging.getLevelName(level) if isinstance(level, int) else str(level).upper()
    if level_name == "WARN":
        level_name = "WARNING"
    if level_name not in LOG_LEVELS:
        raise InvalidInputError(f"A log level is one of {', '.join(LOG_LEVELS)}, got {level!r}")
    try:
        with store.session() as session:
            return session.execute(
                insert(MigrationLog)
                .values(
                    job_id=job_id,
                    level=level_name,
                    message=mask_text(message),
                    context=redact(context, key_depth=1),
                )
                .returning(MigrationLog.id)
            ).scalar_one()
    except IntegrityError as exc:
        raise _missing(job_id) from exc


def upsert_checkpoints(store: Store, job_id: int, rows: list[dict[str, Any]]) -> int:
    """Insert or update partition checkpoints in bulk; returns how many rows were written.

    Each row names ``table_name`` and ``partition_index`` and any other checkpoint columns
    (status, lower, upper, rows_read, rows_written, rows_quarantined, bytes, attempts,
    checksum, started_at, finished_at, error); only the columns given are updated.
    """
    require(store, "edit")
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        unknown = set(row) - set(CHECKPOINT_COLUMNS)
        if unknown or not all(k in row for k in _CHECKPOINT_KEY):
            raise InvalidInputError(
                f"A checkpoint row needs table_name and partition_index and may hold "
                f"{', '.join(CHECKPOINT_COLUMNS)}; got {sorted(row)}"
            )
        clean = {k: _checkpoint_value(k, v) for k, v in row.items()}
        groups.setdefault(tuple(sorted(clean)), []).append({"job_id": job_id, **clean})
    table = cast(Table, PartitionCheckpoint.__table__)  # typed FromClause; a model's is a Table
    try:
        with store.session() as session:
            for keys, batch in groups.items():
                stmt = pg_insert(table).values(batch)
                updates = {k: stmt.excluded[k] for k in keys if k not in _CHECKPOINT_KEY}
                index = ["job_id", *_CHECKPOINT_KEY]
                stmt = (
                    stmt.on_conflict_do_update(index_elements=index, set_=updates)
                    if updates
                    else stmt.on_conflict_do_nothing(index_elements=index)
                )
                session.execute(stmt)
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == "23503":
            raise _missing(job_id) from exc
        raise InvalidInputError(
            f"Checkpoint rows for job {job_id} were refused: {exc.orig}"
        ) from exc
    return len(rows)


# A running job's driver touches heartbeat_at every HEARTBEAT_SECONDS (engine.records); one
# silent for STALE_SECONDS has gone without a word (killed, machine lost): it is interrupted.
HEARTBEAT_SECONDS = 10
CANCEL_POLL_SECONDS = 2  # how soon a driver sees a cancel asked for by another process
STALE_SECONDS = 60


def touch(store: Store, job_id: int) -> None:
    """The driver is alive: bump the job's heartbeat."""
    with store.session() as session:
        session.execute(
            update(MigrationJob)
            .where(MigrationJob.id == job_id, MigrationJob.status == "running")
            .values(heartbeat_at=func.now())
        )


def request_cancel(store: Store, job_id: int) -> JobRecord:
    """Ask a running job to stop, from any process: its driver's heartbeat reads the request
    within ``CANCEL_POLL_SECONDS`` and cancels the job as its own cancel would. A job that has
    ended is returned as it is."""
    require(store, "edit", f"cancel job {job_id}")
    with store.session() as session:
        session.execute(
            update(MigrationJob)
            .where(
                MigrationJob.id == job_id,
                MigrationJob.project_id.in_(_org_projects(store)),
                MigrationJob.status.in_(("pending", "running")),
                MigrationJob.cancel_requested_at.is_(None),
            )
            .values(cancel_requested_at=func.now())
        )
    return get_job(store, job_id)


def cancel_requested(store: Store, job_id: int) -> bool:
    """Whether another process asked job ``job_id`` to stop (see :func:`request_cancel`)."""
    with store.session() as session:
        return (
            session.scalar(
                select(MigrationJob.cancel_requested_at).where(MigrationJob.id == job_id)
            )
            is not None
        )


def _is_stale(row: Any, now: datetime) -> bool:
    beat = row.heartbeat_at or row.started_at
    return (
        row.status == "running"
        and beat is not None
        and ((now - beat).total_seconds() > STALE_SECONDS)
    )


def _interrupt_stale(session: Any, rows: list[MigrationJob]) -> None:
    """Running jobs whose driver stopped beating are recorded as interrupted (resumable)."""
    now = datetime.now(UTC)
    for row in rows:
        if _is_stale(row, now):
            row.status = "interrupted"
            row.finished_at = now
            row.error = (
                f"its driver stopped without a word (no heartbeat for over {STALE_SECONDS} s); "
                f"finished partitions are kept: `workbench copy --resume {row.id}` continues it"
            )
    session.flush()


# built once: a job's status is the API's most frequent read
_GET_JOB = select(MigrationJob.__table__).where(
    MigrationJob.id == bindparam("job_id"), MigrationJob.organization_id == bindparam("org")
)


def get_job(store: Store, job_id: int) -> JobRecord:
    require(store, "read")
    with store.connection() as conn:  # a plain read; the ORM only for the rare stale job
        row = conn.execute(
            _GET_JOB, {"job_id": job_id, "org": store.identity.organization_id}
        ).first()
    if row is None:
        raise _missing(job_id)
    if not _is_stale(row, datetime.now(UTC)):
        return _job_record(row)
    with store.session() as session:
        job = session.get(MigrationJob, job_id)
        if job is None:
            raise _missing(job_id)
        _interrupt_stale(session, [job])
        return _job_record(job)


def list_jobs(store: Store, project: ProjectRef | None = None, limit: int = 50) -> list[JobRecord]:
    """Newest jobs first, of one project (name or id) or of all."""
    require(store, "read")
    query = select(MigrationJob).order_by(MigrationJob.created_at.desc(), MigrationJob.id.desc())
    with store.session() as session:
        if project is not None:
            query = query.where(MigrationJob.project_id == project_row(session, store, project).id)
        else:
            query = query.where(MigrationJob.project_id.in_(_org_projects(store)))
        rows = list(session.scalars(query.limit(limit)))
        _interrupt_stale(session, rows)
        return [_job_record(row) for row in rows]


def job_logs(
    store: Store, job_id: int, since_id: int | None = None, limit: int | None = None
) -> list[LogRecord]:
    """The job's log events in order; with ``since_id``, only those after that event."""
    require(store, "read")
    query = select(MigrationLog).where(MigrationLog.job_id == job_id).order_by(MigrationLog.id)
    if since_id is not None:
        query = query.where(MigrationLog.id > since_id)
    if limit is not None:
        query = query.limit(limit)
    with store.session() as session:
        return [
            LogRecord(
                id=r.id,
                job_id=r.job_id,
                at=r.at,
                level=r.level,
                message=r.message,
                context=r.context,
            )
            for r in session.scalars(query)
        ]


def job_checkpoints(store: Store, job_id: int) -> list[dict[str, Any]]:
    """The job's partition checkpoints, ordered by table and partition."""
    require(store, "read")
    table = PartitionCheckpoint.__table__
    with store.session() as session:
        rows = session.execute(
            select(table)
            .where(table.c.job_id == job_id)
            .order_by(table.c.table_name, table.c.partition_index)
        ).mappings()
        return [dict(r) for r in rows]


# --- helpers ---------------------------------------------------------------------------------


def _org_projects(store: Store) -> Select[int]:
    return select(Project.id).where(Project.organization_id == store.identity.organization_id)


def _checkpoint_value(key: str, value: Any) -> Any:
    if key in ("lower", "upper"):
        return jsonable(value)
    if key == "error" and value is not None:
        return mask_text(str(value))
    if key == "status" and value not in ("pending", "running", "done", "failed"):
        raise InvalidInputError(
            f"A checkpoint status is pending, running, done or failed; got {value!r}"
        )
    return value


def _missing(job_id: int) -> NotFoundError:
    return NotFoundError(
        f"No migration job {job_id} in this store; check the job id", job_id=job_id
    )


def _job_record(row: Any) -> JobRecord:
    return JobRecord(**{f.name: getattr(row, f.name) for f in fields(JobRecord)})
