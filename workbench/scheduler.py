"""``workbench scheduler``: runs the projects' schedules (``store/schedules.py``) on time.

APScheduler's background scheduler wakes the process at each schedule's fire times (its cron
trigger, in UTC) and runs the work on its thread pool; the schedules themselves live in the
metadata store, re-read every ``poll`` seconds, so a schedule added or removed from any
machine is picked up without a restart. Any number of schedulers may run against one store
(for availability): at each fire time every one of them tries to claim the run, and the
store's unique (schedule, fire time) lets exactly one through. A fire time no scheduler ran
within ``grace`` seconds (all were down) is recorded as missed, so ``workbench schedule list``
reports it. Runs appear as jobs: a copy is a copy job, a validation a ``validate`` job with
its report; both on the configured Dask cluster (``--dask``/WORKBENCH_DASK_ADDRESS) as any
job.

The process needs the store owner's login (it acts for the schedules' users), like the HTTP
API's server.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from workbench.connectors import local_path
from workbench.engine import records
from workbench.engine.migrate import with_connection_options
from workbench.engine.options import CopyOptions, with_tuples
from workbench.errors import ConfigurationError, PermissionDeniedError
from workbench.store import connections, jobs
from workbench.store import schedules as stored
from workbench.store.database import create_store_engine
from workbench.store.handle import Store

log = logging.getLogger(__name__)

MAX_MISSED = 1000  # fire times recorded as missed per schedule and pass (a year of minutes...)
TICK = timedelta(microseconds=1)


class Scheduler:
    def __init__(
        self,
        store: Store,
        *,
        poll: float = 10.0,
        grace: float = 60.0,
        workers: int = 4,
        files_under: tuple[Path, ...] = (),
    ) -> None:
        if store.admin_url is None or store.identity.switch_to is None:
            raise ConfigurationError(
                "The scheduler runs schedules as their users, so it needs the store owner's "
                "login: WORKBENCH_DATABASE_URL as the owner (or the embedded store)"
            )
        self.store, self.poll, self.grace = store, poll, grace
        self.files_under = files_under  # file sources it may read (none by default)
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.admin = create_store_engine(store.admin_url, store.settings.connect_timeout)
        self.aps = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(workers)},
            job_defaults={
                "coalesce": False,
                "max_instances": workers,
                "misfire_grace_time": int(max(1, grace)),
            },
        )
        self.known: dict[int, str] = {}  # schedule id -> the cron it is scheduled with
        self.refused: dict[int, str] = {}  # schedule id -> why it cannot run (said once)
        self._stores: dict[tuple[int, str], Store] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        """Run until :attr:`stop` is set (the command sets it on SIGINT/SIGTERM)."""
        self.aps.start()
        log.info("scheduler %s started", self.name)
        try:
            while not self.stop.is_set():
                try:
                    self.sync()
                except Exception:  # the store blinked: the next pass tries again
                    log.exception("reading the schedules failed")
                self.stop.wait(self.poll)
        finally:
            self.aps.shutdown(wait=True)
            self.admin.dispose()

    def sync(self) -> None:
        """Schedule what the store holds now; record fire times nobody ran as missed."""
        due = stored.enabled_schedules(self.admin)
        for schedule in due:
            try:
                self.sync_one(schedule)
            except Exception as exc:  # this schedule only: the others go on
                if self.refused.get(schedule.id) != str(exc):  # said once, not every pass
                    log.warning("schedule %s/%s cannot run: %s (edit or remove it)",
                                schedule.project, schedule.name, exc)  # fmt: skip
                self.refused[schedule.id] = str(exc)
                if self.known.pop(schedule.id, None) is not None:
                    self.aps.remove_job(str(schedule.id))
            else:
                self.refused.pop(schedule.id, None)
        for gone in set(self.known) - {s.id for s in due}:
            self.aps.remove_job(str(gone))
            del self.known[gone]

    def sync_one(self, schedule: stored.Due) -> None:
        """Schedule one (again if its cron changed). Its missed fire times are recorded first:
        that fails when its user can no longer act in its organization, and then it is not
        scheduled at all."""
        self.record_missed(schedule)
        if self.known.get(schedule.id) != schedule.cron:
            self.aps.add_job(
                self.fire,
                trigger=stored.cron_trigger(schedule.cron),
                id=str(schedule.id),
                args=[schedule],
                replace_existing=True,
            )
            self.known[schedule.id] = schedule.cron

    def record_missed(self, schedule: stored.Due) -> None:
        store = self.store_for(schedule)
        trigger = stored.cron_trigger(schedule.cron)
        since = stored.last_fire_time(store, schedule.id) or schedule.created_at
        horizon = datetime.now(UTC) - timedelta(seconds=self.grace)
        missed: list[datetime] = []
        t = trigger.get_next_fire_time(None, since + TICK)
        while t is not None and t < horizon and len(missed) < MAX_MISSED:
            missed.append(t)
            t = trigger.get_next_fire_time(t, t + TICK)
        if stored.record_missed(store, schedule.id, missed):
            log.warning(
                "schedule %s/%s: %d run(s) missed (no scheduler ran them in time)",
                schedule.project,
                schedule.name,
                len(missed),
            )

    def fire(self, schedule: stored.Due) -> None:
        """One fire time: claim it (or leave it to the scheduler that did), run, record."""
        fire_time = latest_fire_time(schedule.cron, datetime.now(UTC))
        store = self.store_for(schedule)
        run_id = stored.claim_run(store, schedule.id, fire_time, self.name)
        if run_id is None:
            log.debug("schedule %s at %s: another scheduler has it", schedule.id, fire_time)
            return
        job: dict[str, int] = {}
        try:
            row = stored.load(store, schedule.id)
            if row.kind == "validate":
                ok = self._validate(store, row, run_id, job)
            else:
                ok = self._copy(store, row, run_id, job)
            stored.finish_run(
                store,
                run_id,
                "succeeded" if ok else "failed",
                job.get("id"),
                None if ok else "the validation found differences",
            )
        except Exception as exc:
            log.warning("schedule %s/%s failed: %s", schedule.project, schedule.name, exc)
            stored.finish_run(store, run_id, "failed", job.get("id"), str(exc))

    def _validate(self, store: Store, row: Any, run_id: int, job: dict[str, int]) -> bool:
        from workbench.engine.repair import validate_job

        job["id"] = jobs.create_job(
            store,
            row.project_id,
            "validate",
            {"validates": row.job_id, "schedule": row.name, "scheduler": self.name},
        )
        stored.set_run_job(store, run_id, job["id"])
        jobs.set_job_status(store, job["id"], "running")
        beat = records.Heartbeat(store, job["id"])
        try:
            report = validate_job(row.job_id, store=store)
        except Exception as exc:
            jobs.set_job_status(store, job["id"], "failed", error=str(exc))
            raise
        finally:
            beat.close()
        jobs.update_job_statistics(store, job["id"], {"validation": report.as_dict()})
        bad = ", ".join(t.table for t in report.mismatched)
        jobs.set_job_status(
            store,
            job["id"],
            "succeeded" if report.ok else "failed",
            error=None if report.ok else f"validation failed: {bad}",
        )
        return report.ok

    def _copy(self, store: Store, row: Any, run_id: int, job: dict[str, int]) -> bool:
        from workbench.engine.run import copy_database

        source = connections.get_connection(store, row.project_id, row.source_connection)
        target = connections.get_connection(store, row.project_id, row.target_connection)
        for record in (source, target):  # the scheduler's disk is not its users' to read
            path = local_path(record.url)
            if path is not None and not any(
                path.resolve().is_relative_to(root.resolve()) for root in self.files_under
            ):
                raise PermissionDeniedError(
                    f"Connection {record.name!r} is a path on the scheduler's machine ({path}); "
                    "refused unless its operator allows the folder with "
                    "`workbench scheduler --files-under DIR`",
                    path=str(path),
                )
        options = with_connection_options(CopyOptions(**with_tuples(row.options or {})), source)

        def on_job(job_id: int) -> None:
            job["id"] = job_id
            stored.set_run_job(store, run_id, job_id)

        result = copy_database(
            connections.connection_url(store, source),
            connections.connection_url(store, target),
            options,
            store=store,
            project=source.project,
            on_job=on_job,
            connection_ids=(source.id, target.id),
        )
        return result.status == "succeeded"

    def store_for(self, schedule: stored.Due) -> Store:
        key = (schedule.user_id, schedule.organization)
        if key not in self._stores:
            if schedule.db_role is None:
                raise ConfigurationError(f"User {schedule.user!r} has no role in the store")
            self._stores[key] = self.store.as_user(
                schedule.user, schedule.user_id, schedule.db_role, schedule.organization
            )
        return self._stores[key]


def latest_fire_time(cron: str, now: datetime) -> datetime:
    """The schedule's fire time at or just before ``now`` (what the run being fired is for):
    every scheduler computes the same one, which is how they agree on what to claim."""
    trigger = stored.cron_trigger(cron)
    step = timedelta(seconds=1)
    t = trigger.get_next_fire_time(None, now - step)
    while t is not None and t > now:  # the wake-up came early: look further back
        step *= 2
        t = trigger.get_next_fire_time(None, now - step)
    assert t is not None
    while True:  # the last one not after now
        later = trigger.get_next_fire_time(t, t + TICK)
        if later is None or later > now:
            return t
        t = later
