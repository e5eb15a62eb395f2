"""Recurring jobs as stored: a project's schedules and their runs (``workbench.scheduler``
runs them).

A schedule validates a job's copy again, or copies between two of the project's stored
connections, on a cron expression: five fields (minute hour day month weekday, as crontab)
or six with seconds first. It runs as the user who made it, with their role at the time of
each run. Each fire time becomes one ``schedule_runs`` row: claimed by the one scheduler
whose insert wins (:func:`claim_run`), or recorded as missed when none ran it in time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine

from workbench.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from workbench.store.access import require
from workbench.store.audit import record_event
from workbench.store.models import (
    MigrationJob,
    Organization,
    Project,
    Schedule,
    ScheduleRun,
    User,
)
from workbench.store.names import clean_name
from workbench.store.projects import ProjectRef, project_row
from workbench.store.redact import jsonable

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

    from workbench.store.handle import Store

CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
# a scheduled copy runs in the scheduler's process, for its user: options that run SQL with
# stored logins or choose where work runs are not among them (as over HTTP)
COPY_OPTIONS = frozenset(
    {
        "tables", "exclude", "target_schema", "validate", "if_exists", "partition_rows",
        "batch_rows", "max_bad_rows", "max_bad_ratio", "max_rows_per_second",
        "max_connections", "finish", "type_options",
    }
)  # fmt: skip


def cron_trigger(expression: str) -> CronTrigger:
    """APScheduler's trigger for a crontab expression (5 fields, or 6 with seconds first),
    in UTC; a clear error for anything else."""
    from apscheduler.triggers.cron import CronTrigger

    parts = expression.split()
    if len(parts) not in (5, 6):
        raise InvalidInputError(
            f"A schedule's cron expression has 5 fields (minute hour day month weekday, e.g. "
            f"'0 2 * * *' for 02:00 every day) or 6 with seconds first; got {expression!r}"
        )
    names = CRON_FIELDS if len(parts) == 5 else ("second", *CRON_FIELDS)
    try:
        return CronTrigger(**dict(zip(names, parts, strict=True)), timezone=UTC)
    except ValueError as exc:
        raise InvalidInputError(f"Cron expression {expression!r} is not valid: {exc}") from exc


@dataclass(frozen=True)
class ScheduleRecord:
    id: int
    project: str
    name: str
    kind: str
    cron: str
    job_id: int | None
    source_connection: str | None
    target_connection: str | None
    options: dict[str, Any]
    enabled: bool
    created_by: str
    created_at: datetime
    runs: int = 0
    missed: int = 0
    failed: int = 0
    last_fire_time: datetime | None = None
    last_job_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return jsonable(asdict(self))


@dataclass(frozen=True)
class Due:
    """A schedule as the scheduler sees it (every organization): whom it runs as."""

    id: int
    organization: str
    user: str
    user_id: int
    db_role: str | None
    project: str
    name: str
    cron: str
    created_at: datetime


def create_schedule(
    store: Store,
    project: ProjectRef,
    name: str,
    cron: str,
    *,
    validate_job: int | None = None,
    source: str | None = None,
    target: str | None = None,
    options: dict[str, Any] | None = None,
) -> ScheduleRecord:
    """Schedule a validation of ``validate_job`` or a copy from ``source`` to ``target`` (the
    project's connections) on ``cron``."""
    require(store, "edit", f"schedule jobs in project {project!r}")
    name = clean_name(name, "schedule name")
    cron_trigger(cron)  # refused here, not at 2 a.m.
    if (validate_job is None) == (source is None or target is None):
        raise InvalidInputError(
            "A schedule validates a job (--validate JOB) or copies between two of the "
            "project's connections (--copy SOURCE TARGET): give one of them"
        )
    kind = "validate" if validate_job is not None else "copy"
    refused = sorted(set(options or {}) - COPY_OPTIONS)
    if refused:
        raise InvalidInputError(
            f"A scheduled copy does not take {refused}: it runs in the scheduler's process; "
            f"the options it takes: {', '.join(sorted(COPY_OPTIONS))}",
            refused=refused,
        )
    with store.session() as session:
        row = project_row(session, store, project)
        if validate_job is not None:
            job = session.get(MigrationJob, validate_job)
            if job is None or job.project_id != row.id:
                raise NotFoundError(
                    f"No job {validate_job} in project {row.name!r}; `workbench jobs "
                    f"--project {row.name}` lists them",
                    job_id=validate_job,
                )
        taken = session.scalar(
            select(Schedule.id).where(Schedule.project_id == row.id, Schedule.name == name)
        )
        if taken is not None:
            raise AlreadyExistsError(
                f"Project {row.name!r} already has a schedule {name!r}; remove it first "
                f"(`workbench schedule remove {row.name} {name}`) or choose another name",
                schedule=name,
            )
        schedule = Schedule(
            project_id=row.id,
            name=name,
            kind=kind,
            cron=cron,
            job_id=validate_job,
            source_connection=source,
            target_connection=target,
            options=jsonable(options or {}),
            user_id=store.identity.user_id,
            created_by=store.user,
        )
        session.add(schedule)
        session.flush()
        record_event(
            session,
            store,
            "schedule.create",
            object_type="schedule",
            object_id=schedule.id,
            object_name=name,
            project_id=row.id,
            kind=kind,
            cron=cron,
        )
        session.refresh(schedule)
        return _record(schedule, row.name, [])


def list_schedules(store: Store, project: ProjectRef) -> list[ScheduleRecord]:
    """The project's schedules with their runs so far (started, missed, failed)."""
    require(store, "read", "list schedules")
    with store.session() as session:
        row = project_row(session, store, project)
        schedules = session.scalars(
            select(Schedule).where(Schedule.project_id == row.id).order_by(Schedule.name)
        ).all()
        out = []
        for schedule in schedules:
            runs = session.scalars(
                select(ScheduleRun)
                .where(ScheduleRun.schedule_id == schedule.id)
                .order_by(ScheduleRun.fire_time)
            ).all()
            out.append(_record(schedule, row.name, list(runs)))
        return out


def schedule_runs(store: Store, project: ProjectRef, name: str) -> list[dict[str, Any]]:
    """Every run of schedule ``name``, oldest first."""
    require(store, "read", "read schedule runs")
    with store.session() as session:
        row = project_row(session, store, project)
        schedule = _find(session, row, name)
        runs = session.scalars(
            select(ScheduleRun)
            .where(ScheduleRun.schedule_id == schedule.id)
            .order_by(ScheduleRun.fire_time)
        ).all()
        return [
            jsonable(
                {
                    c: getattr(r, c)
                    for c in (
                        "fire_time",
                        "status",
                        "job_id",
                        "scheduler",
                        "started_at",
                        "finished_at",
                        "error",
                    )
                }
            )
            for r in runs
        ]


def remove_schedule(store: Store, project: ProjectRef, name: str) -> None:
    require(store, "edit", f"remove schedule {name!r}")
    with store.session() as session:
        row = project_row(session, store, project)
        schedule = _find(session, row, name)
        session.delete(schedule)
        record_event(
            session,
            store,
            "schedule.remove",
            object_type="schedule",
            object_id=schedule.id,
            object_name=name,
            project_id=row.id,
        )


def enabled_schedules(admin: Engine) -> list[Due]:
    """Every enabled schedule of every organization, with whom it runs as. Read with the
    owner's login: only the scheduler (a trusted process) calls this."""
    with admin.connect() as conn:
        rows = conn.execute(
            select(
                Schedule.id,
                Organization.name,
                User.name,
                User.id,
                User.db_role,
                Project.name,
                Schedule.name,
                Schedule.cron,
                Schedule.created_at,
            )
            .join(Organization, Organization.id == Schedule.organization_id)
            .join(User, User.id == Schedule.user_id)
            .join(Project, Project.id == Schedule.project_id)
            .where(Schedule.enabled.is_(True), Project.status == "active")
            .order_by(Schedule.id)
        ).all()
    return [Due(*row) for row in rows]


def load(store: Store, schedule_id: int) -> Schedule:
    """The schedule as its user sees it now (None-safe: a removed one is NotFoundError)."""
    with store.session() as session:
        found = session.get(Schedule, schedule_id)
        if found is None:
            raise NotFoundError(f"Schedule {schedule_id} is gone", schedule_id=schedule_id)
        session.expunge(found)
        return found


def claim_run(store: Store, schedule_id: int, fire_time: datetime, scheduler: str) -> int | None:
    """Record that ``scheduler`` starts the run at ``fire_time``; None when another scheduler
    (or a missed-run record) has it already: the unique (schedule, fire time) decides."""
    with store.session() as session:
        return session.scalar(
            insert(ScheduleRun)
            .values(
                schedule_id=schedule_id,
                fire_time=fire_time,
                status="started",
                scheduler=scheduler,
                started_at=func.now(),
            )
            .on_conflict_do_nothing(index_elements=["schedule_id", "fire_time"])
            .returning(ScheduleRun.id)
        )


def finish_run(
    store: Store, run_id: int, status: str, job_id: int | None, error: str | None = None
) -> None:
    from workbench.urls import mask_text

    with store.session() as session:
        session.execute(
            update(ScheduleRun)
            .where(ScheduleRun.id == run_id)
            .values(
                status=status,
                job_id=job_id,
                finished_at=func.now(),
                error=mask_text(error)[:2000] if error else None,
            )
        )


def set_run_job(store: Store, run_id: int, job_id: int) -> None:
    with store.session() as session:
        session.execute(update(ScheduleRun).where(ScheduleRun.id == run_id).values(job_id=job_id))


def last_fire_time(store: Store, schedule_id: int) -> datetime | None:
    with store.session() as session:
        return session.scalar(
            select(func.max(ScheduleRun.fire_time)).where(ScheduleRun.schedule_id == schedule_id)
        )


def record_missed(store: Store, schedule_id: int, fire_times: list[datetime]) -> int:
    """Record fire times no scheduler ran in time as missed (a time some scheduler claimed
    meanwhile is left as it is); how many were recorded."""
    if not fire_times:
        return 0
    with store.session() as session:
        recorded = session.scalars(
            insert(ScheduleRun)
            .values(
                [
                    {
                        "schedule_id": schedule_id,
                        "fire_time": t,
                        "status": "missed",
                        "error": "no scheduler ran it within its grace time",
                    }
                    for t in fire_times
                ]
            )
            .on_conflict_do_nothing(index_elements=["schedule_id", "fire_time"])
            .returning(ScheduleRun.id)
        ).all()
        return len(recorded)


def _find(session: Any, project: Project, name: str) -> Schedule:
    found = session.scalar(
        select(Schedule).where(Schedule.project_id == project.id, Schedule.name == name)
    )
    if found is None:
        raise NotFoundError(
            f"No schedule {name!r} in project {project.name!r}; `workbench schedule list "
            f"{project.name}` shows them",
            schedule=name,
        )
    return found


def _record(schedule: Schedule, project: str, runs: list[ScheduleRun]) -> ScheduleRecord:
    started = [r for r in runs if r.status != "missed"]
    last = runs[-1] if runs else None
    return ScheduleRecord(
        id=schedule.id,
        project=project,
        name=schedule.name,
        kind=schedule.kind,
        cron=schedule.cron,
        job_id=schedule.job_id,
        source_connection=schedule.source_connection,
        target_connection=schedule.target_connection,
        options=dict(schedule.options or {}),
        enabled=schedule.enabled,
        created_by=schedule.created_by,
        created_at=schedule.created_at,
        runs=len(started),
        missed=sum(1 for r in runs if r.status == "missed"),
        failed=sum(1 for r in runs if r.status == "failed"),
        last_fire_time=last.fire_time if last else None,
        last_job_id=next((r.job_id for r in reversed(started) if r.job_id), None),
    )
