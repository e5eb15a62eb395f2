"""A job from start to end: plan, create target tables, copy on Dask, finish, validate.

:func:`copy_database` is the pgloader-shaped job (a whole database or chosen tables);
:func:`resume_job` continues a job whose driver died, skipping partitions the target has
checkpoints for. Both return a :class:`JobResult`; a failure is recorded on the job (status,
reason, log) and raised as a typed error carrying ``job_id``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn

import psycopg
from opentelemetry import context as otel_context
from opentelemetry import trace

from workbench import telemetry
from workbench.config import Settings
from workbench.connectors import connect, connector_class
from workbench.connectors.base import Partition
from workbench.connectors.postgres import conninfo
from workbench.engine import bookkeeping, openlineage, records, targets
from workbench.engine.cluster import (
    BackgroundClient,
    check_workers_can_use,
    default_workers,
    sealing_key,
)
from workbench.engine.copy import PartitionResult, PartitionTask
from workbench.engine.execute import (
    SMALL_JOB_ROWS,
    DaskRunner,
    ErrorBudget,
    TaskRunner,
    ThreadRunner,
    copy_window,
    run_partitions,
    throttled,
)
from workbench.engine.lineage import plan_lineage
from workbench.engine.options import EXPERIMENTAL_FLAG
from workbench.engine.options import CopyOptions as CopyOptions  # re-exported: the public API
from workbench.engine.options import JobResult as JobResult  # re-exported: the public API
from workbench.engine.plan import (
    MigrationPlan,
    TablePlan,
    fingerprint,
    general_rows,
    partition_plan_rows,
    plan_job,
)
from workbench.engine.progress import NullProgress, ProgressSink
from workbench.engine.tails import TableTails
from workbench.engine.target_lock import TargetLock
from workbench.engine.targets import Unfinished, run_statements, statement_phase
from workbench.engine.validate import ValidationReport, validation_failed
from workbench.errors import (
    ConfigurationError,
    IncompleteJobError,
    InvalidInputError,
    JobCancelledError,
    MigrationError,
    PermissionDeniedError,
    ResumeRefusedError,
    WorkbenchError,
)
from workbench.governance.lineage import LineageRecord, save_lineage
from workbench.schema.ddl import DdlScript
from workbench.store import Store, flags, jobs, open_store
from workbench.store.audit import record_event
from workbench.store.projects import get_project
from workbench.transforms import masking
from workbench.urls import kind_of, mask_text, mask_url, parse_url

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)


def copy_database(
    source_url: str,
    target_url: str,
    options: CopyOptions | None = None,
    *,
    store: Store | None = None,
    project: str | None = None,
    progress: ProgressSink | None = None,
    cancel: threading.Event | None = None,
    on_job: Callable[[int], None] | None = None,
    settings: Settings | None = None,
    kind: str = "copy",
    connection_ids: tuple[int | None, int | None] = (None, None),
    client: Client | None = None,
) -> JobResult:
    """Copy a whole database (or ``options.tables``) from ``source_url`` into PostgreSQL.

    ``client``: a connected ``distributed.Client`` to run on (a notebook's cluster,
    dask-gateway, Coiled, KubeCluster); it is used as it is and left open. Without one the job
    uses ``--dask``/``WORKBENCH_DASK_ADDRESS``, else a local cluster, else (a small job) threads.
    """
    options = options or CopyOptions()
    kind_of(source_url)
    if not connector_class(kind_of(target_url)).capabilities.can_write:
        raise InvalidInputError(
            f"The target must be PostgreSQL, got {mask_url(target_url)}; "
            "use postgresql://user@host:5432/database"
        )
    own_store = store is None
    store = store or open_store(settings)
    try:
        check_experimental(store, options)
        project_id = records.ensure_project(store, project)
        job_key = f"job-{uuid.uuid4().hex[:12]}"
        job_id = jobs.create_job(
            store,
            project_id,
            kind,
            {
                "source": mask_url(source_url),
                "target": mask_url(target_url),
                "options": options.to_dict(),
                "job_key": job_key,
                "sealed": records.seal(store, source_url, target_url),
            },
            source_connection_id=connection_ids[0],
            target_connection_id=connection_ids[1],
        )
        if on_job is not None:
            on_job(job_id)
        return _run(
            store,
            job_id,
            job_key,
            source_url,
            target_url,
            options,
            progress,
            cancel,
            resume=False,
            client=client,
        )
    finally:
        if own_store:
            store.close()


def resume_job(
    job_id: int,
    *,
    store: Store | None = None,
    progress: ProgressSink | None = None,
    cancel: threading.Event | None = None,
    settings: Settings | None = None,
    client: Client | None = None,
) -> JobResult:
    """Continue a job that did not finish: copied partitions are kept, the rest are copied
    (on ``client`` if given, as :func:`copy_database`)."""
    own_store = store is None
    store = store or open_store(settings)
    try:
        job = records.load_job(store, job_id, "resumed")
        if job.status == "succeeded":
            raise ResumeRefusedError(f"Job {job_id} already succeeded; nothing to resume.")
        if job.status == "incomplete":  # every row is in: build only what failed
            return finish_incomplete(store, job_id, job.target_url, progress)
        check_experimental(store, job.options)
        return _run(
            store,
            job_id,
            job.job_key,
            job.source_url,
            job.target_url,
            job.options,
            progress,
            cancel,
            resume=True,
            expected_fingerprint=job.fingerprint,
            client=client,
        )
    finally:
        if own_store:
            store.close()


def _run(
    store: Store,
    job_id: int,
    job_key: str,
    source_url: str,
    target_url: str,
    options: CopyOptions,
    progress: ProgressSink | None,
    cancel: threading.Event | None,
    *,
    resume: bool,
    expected_fingerprint: str | None = None,
    client: Client | None = None,
) -> JobResult:
    """Run a created job step by step (see :class:`_JobRun`); however it ends is recorded."""
    attributes: dict[str, str | int | bool] = {
        "workbench.job.id": job_id,
        "workbench.job.key": job_key,
        "workbench.job.resume": resume,
        "workbench.source.kind": kind_of(source_url),
        "workbench.target.kind": kind_of(target_url),
    }
    with telemetry.tracer().start_as_current_span(
        "workbench.job", attributes=attributes, record_exception=False
    ) as span:
        run = _JobRun(
            store, job_id, job_key, source_url, target_url, options, progress, cancel, resume=resume
        )
        run.client = client
        try:
            run.plan(expected_fingerprint)
            run.prepare_target()
            run.copy_partitions()
            run.finish()
            result = run.record_result()
            span.set_attribute("workbench.job.status", result.status)
            span.set_attribute("workbench.rows_copied", result.rows_copied)
            return result
        except BaseException as exc:
            telemetry.fail(span, exc)
            run.fail(exc)
        finally:
            run.close()


class _JobRun:
    """One run of a job: the state its steps share, one method per step (:func:`_run` calls
    them in order), :meth:`fail` and :meth:`close` for however it ends.

    The phases are "plan", "copy", "finish" and "done": :meth:`phase` ends one (its time goes
    to ``phases``) and begins the next, once a cancel has been checked for."""

    # set by the steps, for the steps after them
    job_plan: MigrationPlan
    estimates: dict[str, int]  # table -> rows
    script: DdlScript
    done: dict[tuple[str, int], dict[str, Any]]  # partitions the target already has
    validation: ValidationReport | None
    unfinished: list[Unfinished]
    warnings: list[str]
    not_migrated: list[tuple[str, str]]

    def __init__(
        self,
        store: Store,
        job_id: int,
        job_key: str,
        source_url: str,
        target_url: str,
        options: CopyOptions,
        progress: ProgressSink | None,
        cancel: threading.Event | None,
        *,
        resume: bool,
    ) -> None:
        """Mark the job running: from here its heartbeat beats until :meth:`close`."""
        self.store, self.job_id, self.job_key = store, job_id, job_key
        # a cancel asked for by another process reaches the run through this event
        self.options, self.cancel, self.resume = options, cancel or threading.Event(), resume
        self.progress = progress or NullProgress()
        self.settings = store.settings
        self.timeout = self.settings.connect_timeout
        self.started = time.monotonic()
        self.source_url = source_url
        # every target session of this job carries its name: a cancel can stop them all, wherever
        # they run (local or remote workers)
        self.target_url = tag_sessions(target_url, job_key)
        jobs.set_job_status(store, job_id, "running")
        self.heartbeat = records.Heartbeat(store, job_id, self.cancel)
        self.lineage_events = _lineage_emitter(store, job_id, job_key, source_url, target_url)
        jobs.log_event(
            store,
            job_id,
            "INFO",
            ("Resuming" if resume else "Starting") + " copy "
            f"{mask_url(source_url)} -> {mask_url(self.target_url)}",
        )
        self.recorder: records.JobRecorder | None = None  # from the plan on
        self.phases: dict[str, float] = {}  # phase -> seconds, of those that ended
        self.phase_name = "plan"
        self.phase_began = time.monotonic()
        self.trace_context = otel_context.get_current()  # the job's span: phases hang under it
        self.phase_span = telemetry.tracer().start_span("plan", context=self.trace_context)
        self.background: BackgroundClient | None = None  # the Dask client, if the job needs one
        self.threads: ThreadRunner | None = None  # ... or threads here, for a small job
        self.client: Client | None = None  # ... or the caller's own client, left open
        self.target_lock = TargetLock(self.target_url, self.timeout, job_id, job_key)
        self.tails: TableTails | None = None  # from the copy on
        self.dashboard: str | None = None  # the Dask dashboard, once partitions are copied

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise JobCancelledError(f"cancelled during {self.phase_name}", job_id=self.job_id)

    def phase(self, name: str) -> None:
        self.check_cancel()
        self.phase_span.end()
        if name != "done":  # each phase is a span of the job's trace (its parent)
            self.phase_span = telemetry.tracer().start_span(name, context=self.trace_context)
        now = time.monotonic()
        self.phases[self.phase_name] = round(now - self.phase_began, 3)
        log.info("job %s: %s done in %.1f s; %s", self.job_id, self.phase_name,
                 self.phases[self.phase_name], name)  # fmt: skip
        self.phase_name, self.phase_began = name, now
        self.progress.phase(name)
        if self.recorder is not None:
            self.recorder.flush(force=True, phases=self.phases)

    def plan(self, expected_fingerprint: str | None) -> None:
        """Check that both ends answer, start the cluster, plan the job (a resume is refused if
        its source schema or mapping changed), record its fingerprint and lineage."""
        _audit(
            self.store,
            self.job_id,
            "job.start",
            resume=self.resume,
            source=mask_url(self.source_url),
            target=mask_url(self.target_url),
            experimental=self.options.experimental(),
        )
        self.progress.phase("plan")
        options, timeout = self.options, self.timeout
        source = connect(self.source_url, connect_timeout=timeout, options=options.source_options)
        try:
            source.test()  # both ends answer before a cluster starts: a wrong port fails in
            connect(self.target_url, connect_timeout=timeout).test()  # a second, not after 25
            resume_rows = jobs.job_checkpoints(self.store, self.job_id) if self.resume else None
            plan = plan_job(source, options, self.job_key, resume_rows, self.choose_runner)
            python_rows = general_rows(source, plan.tables, lambda tp: tp.row_estimate or 0)
        finally:
            source.close()
        if options.follow and not self.resume:  # before a row is read: see engine.follow
            from workbench.engine.follow import start_position

            begin = start_position(self.source_url, timeout, options.source_options,
                                   [tp.source for tp in plan.tables], self.job_key)  # fmt: skip
            jobs.update_job_statistics(self.store, self.job_id, {"follow_from": begin.as_dict()})
            said = f"Changes will be followed from {begin.file}:{begin.offset}"
            jobs.log_event(self.store, self.job_id, "INFO", said)
        self.choose_runner(python_rows)
        self.check_workers_can_use_the_urls()
        self.check_cancel()
        plan.fingerprint = fingerprint(plan.tables, _fingerprint_options(options))
        plan.salt = mask_salt(self.store, self.job_id)
        if self.resume and expected_fingerprint and plan.fingerprint != expected_fingerprint:
            raise ResumeRefusedError(
                f"Job {self.job_id} cannot be resumed: the source schema or the mapping changed "
                "since it started (fingerprint differs). Start a new job with --if-exists replace.",
                job_id=self.job_id,
            )
        records.set_fingerprint(self.store, self.job_id, plan.fingerprint)
        self.lineage_events.start(plan, _record_lineage(self.store, self.job_id, plan, options))
        self.job_plan = plan
        self.estimates = {tp.name: tp.row_estimate or 0 for tp in plan.tables}
        self.recorder = records.JobRecorder(self.store, self.job_id, self.estimates)
        self.recorder.set_partitions({tp.name: len(tp.partitions) for tp in plan.tables})

    def choose_runner(self, rows: int) -> None:
        """Threads here for a job with few rows on the general path (no cluster to start;
        see ``plan.general_rows``), else a Dask cluster, started in the background while the
        job plans. Called with the catalog's estimate before the
        split points, then with the plan's: a job found big after all still gets its cluster."""
        if self.background is not None or self.client is not None:
            return
        address = self.options.dask_address or self.settings.dask_address
        if not address and rows <= SMALL_JOB_ROWS:
            if self.threads is None:
                self.threads = ThreadRunner(self.options.workers or default_workers())
            return
        if self.threads is not None:
            self.threads.close()
            self.threads = None
        self.background = BackgroundClient(address, self.options.workers)

    def check_workers_can_use_the_urls(self) -> None:
        """With a cluster someone else runs (an address, a caller's client), workers on other
        hosts must reach the same servers and files: refused now, before anything is copied."""
        address = self.options.dask_address or self.settings.dask_address
        client = self.client or (self.background.client() if self.background and address else None)
        if client is not None:
            urls = {"source": self.source_url, "target": self.target_url}
            sealing_key(own_cluster=False, urls=urls)  # a password needs the shared key
            check_workers_can_use(client, urls, self.options.shared_files)

    def runner(self) -> TaskRunner:
        if self.threads is not None:
            return self.threads
        urls = {"source": self.source_url, "target": self.target_url}
        address = self.options.dask_address or self.settings.dask_address
        key = sealing_key(self.client is None and not address, urls)
        if self.client is not None:
            return DaskRunner(self.client, key)
        assert self.background is not None  # made by choose_runner()
        return DaskRunner(self.background.client(), key)

    def prepare_target(self) -> None:
        """Lock the job's target tables and create them (a resume: those not created yet), note
        the partitions the target already has, record the planned ones."""
        try:
            self._prepare_target()
        except psycopg.errors.ReadOnlySqlTransaction as exc:
            raise ConfigurationError(
                f"The target database {parse_url(self.target_url).database or ''} is read-only "
                f"({str(exc).strip()}): a hot standby, or default_transaction_read_only = on. "
                "Nothing was copied. Point the job at the primary, or turn the setting off"
            ) from exc
        except psycopg.errors.InsufficientPrivilege as exc:
            target = parse_url(self.target_url)
            login = target.username or "(the default user)"
            database = target.database or ""
            raise PermissionDeniedError(
                f"The target login {login} may not create what the job needs in {database} "
                f"({str(exc).strip()}). Nothing was copied. Grant it CREATE on the database "
                f"(GRANT CREATE ON DATABASE ... TO {login}: the job makes its schemas and its "
                "bookkeeping schema _workbench) and on the target schema, or use a login that "
                "owns them"
            ) from exc
        self.check_cancel()
        if not self.resume:
            jobs.upsert_checkpoints(
                self.store, self.job_id, partition_plan_rows(self.job_plan.tables)
            )
        jobs.log_event(
            self.store,
            self.job_id,
            "INFO",
            f"Planned {len(self.job_plan.tables)} tables, "
            f"{self.job_plan.partition_count} partitions, ~{sum(self.estimates.values())} rows",
            tables=self.estimates,
        )

    def _prepare_target(self) -> None:
        plan, options = self.job_plan, self.options
        with psycopg.connect(
            self.target_url, connect_timeout=int(self.timeout), autocommit=True
        ) as conn:
            if options.before_sql and not self.resume:
                self.run_hook(conn, "before", options.before_sql)
            bookkeeping.ensure_bookkeeping(conn)
            # one job per target table: refused here, before anything is dropped or created
            self.target_lock.acquire([(tp.target_schema, tp.target_name) for tp in plan.tables])
            if self.resume:  # tables a stopped job had not created yet (cancelled while planning)
                missing = targets.missing_tables(conn, plan.tables)
                if missing:
                    targets.create_target_tables(conn, missing, plan.source_schema, options)
                self.script = targets.job_ddl(plan.tables, plan.source_schema, options)
            else:
                self.script = targets.create_target_tables(
                    conn, plan.tables, plan.source_schema, options
                )
            self.done = bookkeeping.done_checkpoints(conn, self.job_key)

    def copy_partitions(self) -> None:
        """Copy on Dask the partitions the target does not have yet; a table's tail (its
        validation, keys and indexes) starts as soon as its last partition is in."""
        recorder = self.recorder
        assert recorder is not None  # made by plan()
        self.tails = TableTails(
            self.job_plan,
            self.source_url,
            self.target_url,
            self.script.post_load,
            self.timeout,
            views=self.script.views,
            # a followed source changes while it is copied: its validation is the cut-over's
            validate=self.options.validate and not self.options.follow,
            finish=self.options.finish,
            defer_constraints=self.options.follow,
        )
        self.progress.start(self.job_id, self.estimates)
        tasks = self._tasks_to_copy(recorder, self.tails)
        self.phase("copy")
        carrier = self._copy_trace()  # partitions' spans hang under the copy phase's
        tasks = [replace(t, trace_context=carrier) for t in tasks]
        budget = ErrorBudget(self.options.max_bad_rows, self.options.max_bad_ratio)
        if tasks:
            runner = self.runner()
            window = self.window(runner)
            tasks = throttled(tasks, self.options.max_rows_per_second, window)
            self.dashboard = runner.dashboard
            recorder.flush(force=True, dask_dashboard=self.dashboard)
            run_partitions(
                runner,
                tasks,
                self._on_result,
                budget,
                self.cancel,
                on_tick=lambda: recorder.flush(force=True),
                window=window,
                # a resume's keys are its own: on the caller's long-lived client the first
                # run's failed or cancelled futures may still be held under the copy's keys,
                # and Dask would hand their outcome back instead of copying again
                key_prefix=f"resume-{uuid.uuid4().hex[:8]}" if self.resume else "copy",
            )
        recorder.flush(force=True)

    def window(self, runner: TaskRunner) -> int:
        """How many partitions run at once (see execute.copy_window), said in the job's log."""
        free = []
        for url in (self.source_url, self.target_url):
            connector = connect(url, connect_timeout=self.timeout)
            try:
                free.append(connector.free_connections())
            except Exception:  # a server that will not say: the other limits hold
                log.debug("free connections of %s unknown", connector, exc_info=True)
                free.append(None)
            finally:
                connector.close()
        slots = runner.slots()
        window = copy_window(slots, self.options.max_connections, free)
        jobs.log_event(
            self.store,
            self.job_id,
            "INFO",
            f"Copying at most {window} partitions at once ({slots} task slots; "
            f"the source accepts {_said(free[0])} more connections, the target {_said(free[1])})",
        )
        return window

    def _tasks_to_copy(
        self, recorder: records.JobRecorder, tails: TableTails
    ) -> list[PartitionTask]:
        """A task for each partition still to copy; those the target has count as done."""
        tasks = []
        for tp in self.job_plan.tables:
            for p in tp.partitions:
                if (tp.name, p.index) in self.done:
                    counts = self.done[(tp.name, p.index)]
                    recorder.add(tp.name, {**counts, "index": p.index, "attempts": 1}, skipped=True)
                    self.progress.advance(tp.name, counts["rows_read"])
                    tails.partition_done(tp.name, p.index)
                else:
                    tasks.append(
                        partition_task(
                            self.job_plan,
                            tp,
                            p,
                            self.source_url,
                            self.target_url,
                            self.options,
                            self.timeout,
                        )
                    )
        return tasks

    def _copy_trace(self) -> dict[str, str]:
        """The W3C context partitions continue (on whatever worker): under the copy phase."""
        ctx = trace.set_span_in_context(self.phase_span, self.trace_context)
        token = otel_context.attach(ctx)
        try:
            return telemetry.carrier()
        finally:
            otel_context.detach(token)

    def _on_result(self, task: PartitionTask, result: PartitionResult) -> None:
        """A partition is in: count it, log what it quarantined or retried."""
        assert self.recorder is not None and self.tails is not None  # made before the copy
        table = task.table.qualified_name
        self.recorder.add(table, result.as_dict())
        self.progress.advance(table, result.rows_read)
        self.tails.partition_done(table, task.partition.index)
        if result.rows_quarantined:
            jobs.log_event(
                self.store,
                self.job_id,
                "WARNING",
                f"{task.partition.label}: {result.rows_quarantined} rows quarantined",
                table=table,
                partition=task.partition.index,
            )
        if result.errors:
            jobs.log_event(
                self.store,
                self.job_id,
                "WARNING",
                f"{task.partition.label}: retried after " + "; ".join(result.errors),
                table=table,
            )

    def finish(self) -> None:
        """Wait for every table's tail and what follows them (the keys between tables, views);
        log the warnings and what was not migrated; raise if the validation failed."""
        recorder, tails = self.recorder, self.tails
        assert recorder is not None and tails is not None  # made by plan() and the copy
        self.phase("finish")  # the tables' tails started as each table finished; wait for the rest
        self.validation, self.unfinished, warnings, views_failed = tails.wait(cancel=self.cancel)
        if tails.deferred:  # built by the follower once it has caught up (engine.follow)
            recorder.flush(force=True, deferred=tails.deferred)
            jobs.log_event(self.store, self.job_id, "INFO",
                           f"{len(tails.deferred)} constraint(s) wait until the follower has "
                           "caught up with the source")  # fmt: skip
        self.warnings = [*_nulled_values(self.job_plan, recorder), *warnings]
        for w in self.warnings:
            jobs.log_event(self.store, self.job_id, "WARNING", w)
        self.not_migrated = [*self.script.not_migrated, *views_failed]
        for what, why in self.not_migrated:
            jobs.log_event(self.store, self.job_id, "WARNING", f"Not migrated: {what}: {why}")
        recorder.flush(
            force=True, not_migrated=[{"object": w, "reason": y} for w, y in self.not_migrated]
        )
        if self.validation is not None:
            recorder.flush(force=True, validation=self.validation.as_dict())
            if not self.validation.ok:
                raise validation_failed(self.job_id, self.validation, not self.options.follow)
        if self.options.after_sql:
            with psycopg.connect(
                self.target_url, connect_timeout=int(self.timeout), autocommit=True
            ) as conn:
                self.run_hook(conn, "after", self.options.after_sql)

    def run_hook(self, conn: psycopg.Connection, when: str, statements: Sequence[str]) -> None:
        """The user's --before/--after SQL, in one transaction; a failure names the statement."""
        with conn.transaction():
            for statement in statements:
                try:
                    conn.execute(statement)  # the user's own SQL, on their own target
                except psycopg.Error as exc:
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                    done = (
                        "nothing was created or copied"
                        if when == "before"
                        else "the tables are copied and validated; only this step failed"
                    )
                    raise MigrationError(
                        f"The --{when} SQL {statement[:200]!r} failed on the target: {first}; "
                        f"{done}",
                        job_id=self.job_id,
                    ) from exc
        jobs.log_event(
            self.store, self.job_id, "INFO", f"Ran the {len(statements)} --{when} SQL statement(s)"
        )

    def record_result(self) -> JobResult:
        """Record the job succeeded and return its result; or, when some objects could not be
        built, record them and raise :class:`IncompleteJobError`."""
        recorder = self.recorder
        assert recorder is not None  # made by plan()
        self.phase("done")
        result = _result(
            self.job_id,
            "succeeded",
            recorder,
            self.validation,
            self.warnings,
            self.started,
            self.dashboard,
        )
        result.not_migrated = [{"object": w, "reason": y} for w, y in self.not_migrated]
        if self.unfinished:
            result.status = "incomplete"
            result.phases = self.phases
            raise _incomplete(self.store, self.job_id, self.unfinished, result)
        result.phases = self.phases
        jobs.update_job_statistics(
            self.store, self.job_id, {**result.summary(), "status": "succeeded"}
        )
        self.lineage_events.complete(
            {name: t["rows_written"] for name, t in recorder.tables.items()}
        )
        _audit_finish(
            self.store, self.job_id, "succeeded", recorder, self.started, validated=result.validated
        )
        jobs.set_job_status(self.store, self.job_id, "succeeded")
        jobs.log_event(
            self.store,
            self.job_id,
            "INFO",
            f"Copied {result.rows_copied} rows in "
            f"{result.seconds:.1f} s ({result.rows_per_second:.0f} rows/s)"
            + (", validated" if self.validation else ""),
        )
        return result

    def fail(self, exc: BaseException) -> NoReturn:
        """Record how the job ended (failed, incomplete, or cancelled: then its statements in the
        target are stopped) and raise its typed error, which carries ``job_id``.

        Called while ``exc`` is being handled: the bare ``raise`` at the end re-raises it."""
        status = "cancelled" if isinstance(exc, JobCancelledError | KeyboardInterrupt) else "failed"
        if isinstance(exc, IncompleteJobError):
            status = "incomplete"
        if status == "cancelled":
            cancel_sessions(self.target_url, self.job_key, self.timeout)
            exc = _cancelled(self.job_id, self.phase_name, self.recorder, exc)
        reason = mask_text(str(exc) or type(exc).__name__)
        if self.recorder is not None:
            self.recorder.flush(force=True)
            if status == "cancelled":
                self.progress.phase("cancelled")
        # this audits a cancel; a failed or incomplete end is audited below
        jobs.set_job_status(self.store, self.job_id, status, error=reason)
        if status in ("failed", "incomplete"):
            try:
                _audit_finish(
                    self.store, self.job_id, status, self.recorder, self.started, error=reason
                )
            except Exception:  # the job's own error matters more than its audit event
                log.exception("could not audit the end of job %s", self.job_id)
        jobs.log_event(self.store, self.job_id, "ERROR", f"Job {status}: {reason}")
        self.lineage_events.fail(exc)
        if isinstance(exc, WorkbenchError):
            exc.fields.setdefault("job_id", self.job_id)
            raise exc from exc.__cause__
        if isinstance(exc, Exception):
            raise MigrationError(f"Job {self.job_id} failed: {reason}", job_id=self.job_id) from exc
        raise

    def close(self) -> None:
        """Whatever happened: stop the heartbeat and the tails, release the target's tables,
        stop the cluster and the progress display."""
        self.phase_span.end()  # a failed phase's span (ending twice is ignored)
        self.heartbeat.close()
        if self.tails is not None:
            self.tails.close()
        self.target_lock.release()
        if self.background is not None:
            self.background.close()
        if self.threads is not None:
            self.threads.close()
        self.progress.close()


def tag_sessions(target_url: str, job_key: str) -> str:
    """The target URL with the job in its ``application_name`` (unless the user set one)."""

    parsed = parse_url(target_url)
    if "application_name" in parsed.query:
        return target_url
    tagged = parsed.update_query_dict({"application_name": f"workbench-{job_key}"})
    return tagged.render_as_string(hide_password=False)


def cancel_sessions(target_url: str, job_key: str, timeout: float) -> None:
    """Stop every statement the job still runs in the target (COPYs of partitions, checksums,
    index builds): their transactions roll back, committed partitions stay."""

    try:
        with psycopg.connect(
            conninfo(target_url), connect_timeout=int(timeout), autocommit=True,
            application_name="workbench-cancel",
        ) as conn:  # fmt: skip
            conn.execute(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s AND pid <> pg_backend_pid()",
                (f"workbench-{job_key}",),
            )
    except psycopg.Error:
        log.warning("could not cancel the job's statements in the target", exc_info=True)


def _cancelled(
    job_id: int, phase: str, recorder: records.JobRecorder | None, exc: BaseException
) -> JobCancelledError:
    """What a cancel kept, and how to go on."""
    done = total = 0
    if recorder is not None:
        done = sum(t.get("partitions_done", 0) for t in recorder.tables.values())
        total = sum(recorder.partitions.values())
    kept = (
        f"{done} of {total} partitions are in the target and kept (each committed whole)"
        if total
        else "nothing was copied yet"
    )
    how = (
        "every partition is in: `workbench copy --resume {j}` validates and builds the keys"
        if total and done == total
        else "`workbench copy --resume {j}` continues from there, or start over with "
        "--if-exists replace"
    )
    why = "interrupted (Ctrl-C)" if isinstance(exc, KeyboardInterrupt) else "cancelled"
    return JobCancelledError(
        f"Job {job_id} {why} during the {phase} phase: {kept}; " + how.format(j=job_id),
        job_id=job_id,
        phase=phase,
        partitions_done=done,
        partitions=total,
    )


def _incomplete(
    store: Store, job_id: int, unfinished: Sequence[Unfinished], result: JobResult
) -> IncompleteJobError:
    """Record what could not be built and return the error that ends the job incomplete."""
    for u in unfinished:
        jobs.log_event(store, job_id, "ERROR", f"Not built: {u.object}: {u.error}")
    jobs.update_job_statistics(
        store,
        job_id,
        {**result.summary(), "unfinished": [u.as_dict() for u in unfinished]},
    )
    return incomplete_error(
        job_id, unfinished, validated=result.validated, quarantined=result.rows_quarantined
    )


def incomplete_error(
    job_id: int, unfinished: Sequence[Unfinished], *, validated: bool, quarantined: int = 0
) -> IncompleteJobError:
    shown = "; ".join(f"{u.object}: {u.error}" for u in unfinished[:5])
    more = f" (and {len(unfinished) - 5} more)" if len(unfinished) > 5 else ""
    rows = "copied and validated every row" if validated else "copied every row"
    if quarantined:
        rows = f"copied every row but {quarantined} quarantined ones"
        more += " A quarantined row may be the missing parent: see _workbench.quarantine."
    return IncompleteJobError(
        f"Job {job_id} {rows}, but {len(unfinished)} object(s) could not be built: "
        f"{shown}{more}. Fix the data (or drop the object from the source), then run "
        f"`workbench copy --resume {job_id}` to build only these.",
        job_id=job_id,
        objects=[u.as_dict() for u in unfinished],
    )


def finish_incomplete(
    store: Store, job_id: int, target_url: str, progress: ProgressSink | None = None
) -> JobResult:
    """Build again only what an incomplete job could not build; succeed when all are built."""
    job = jobs.get_job(store, job_id)
    stats = dict(job.statistics or {})
    pending = [Unfinished(**u) for u in stats.get("unfinished") or []]
    progress = progress or NullProgress()
    jobs.set_job_status(store, job_id, "running")
    jobs.log_event(store, job_id, "INFO", f"Building {len(pending)} object(s) left unfinished")
    progress.phase("finish")
    started = time.monotonic()
    order = sorted(pending, key=lambda u: statement_phase(u.statement))
    timeout = store.settings.connect_timeout
    failed = run_statements(target_url, [u.statement for u in order], timeout, 1)
    built = len(pending) - len(failed)
    jobs.log_event(store, job_id, "INFO", f"Built {built} of {len(pending)} object(s)")
    validated = bool(stats.get("validated"))
    jobs.update_job_statistics(store, job_id, {"unfinished": [u.as_dict() for u in failed]})
    if failed:
        error = incomplete_error(job_id, failed, validated=validated)
        for u in failed:
            jobs.log_event(store, job_id, "ERROR", f"Not built: {u.object}: {u.error}")
        jobs.set_job_status(store, job_id, "incomplete", error=str(error))
        raise error
    jobs.update_job_statistics(store, job_id, {"status": "succeeded"})
    jobs.set_job_status(store, job_id, "succeeded")
    _audit(store, job_id, "job.finish", status="succeeded", built=built)
    progress.close()
    return JobResult(
        job_id=job_id,
        status="succeeded",
        tables=stats.get("tables", {}),
        rows_copied=stats.get("rows_copied", 0),
        rows_quarantined=stats.get("rows_quarantined", 0),
        rows_read=stats.get("rows_read", 0),
        seconds=round(time.monotonic() - started, 3),
        rows_per_second=stats.get("rows_per_second", 0.0),
        validated=validated,
        warnings=[],
    )


def _nulled_values(plan: MigrationPlan, recorder: records.JobRecorder) -> list[str]:
    """One line per column whose read turned stored values into NULL (zero dates, ENUM '')."""
    lines = []
    for tp in plan.tables:
        counts = recorder.tables.get(tp.name, {}).get("nulled", {})
        for col in tp.columns:
            if counts.get(col.name):
                lines.append(
                    f"{tp.name}.{col.source or col.name}: {counts[col.name]} {col.nulled_what} "
                    "became NULL (type option to keep or refuse them instead: see "
                    "docs/type-mapping.md)"
                )
    return lines


def check_experimental(store: Store, options: CopyOptions) -> None:
    """Refuse experimental options unless the feature flag is on for the current user."""
    chosen = options.experimental()
    if not chosen:
        return
    if flags.is_enabled(store, EXPERIMENTAL_FLAG):
        return
    names = ", ".join(f"{name}={getattr(options, name)!r}" for name in chosen)
    raise PermissionDeniedError(
        f"{names} is experimental: the feature flag {EXPERIMENTAL_FLAG!r} is off for user "
        f"{store.user!r}. An owner can enable it with `workbench flag set "
        f"{EXPERIMENTAL_FLAG} on --user {store.user}`, or leave the option at its default.",
        flag=EXPERIMENTAL_FLAG,
        options=chosen,
        user=store.user,
    )


def _record_lineage(
    store: Store, job_id: int, plan: MigrationPlan, options: CopyOptions
) -> list[LineageRecord]:
    """Every job stores its column lineage once its plan is known (a resume replaces it)."""
    return save_lineage(store, job_id, plan_lineage(job_id, plan, options), automatic=True)


def _lineage_emitter(
    store: Store, job_id: int, job_key: str, source_url: str, target_url: str
) -> openlineage.Emitter:
    """The job's OpenLineage events, named ``<project>.<kind>`` (read only when sent)."""
    name = ""
    if openlineage.configured():
        job = jobs.get_job(store, job_id)
        name = f"{get_project(store, job.project_id).name}.{job.kind}"
    return openlineage.Emitter(job_key, name, source_url, target_url)


def _audit(store: Store, job_id: int, action: str, **details: Any) -> None:
    job = jobs.get_job(store, job_id)
    with store.session() as session:
        record_event(
            session,
            store,
            action,
            object_type="migration_job",
            object_id=job_id,
            object_name=f"{job.kind} #{job_id}",
            project_id=job.project_id,
            **details,
        )


def _audit_finish(
    store: Store,
    job_id: int,
    status: str,
    recorder: records.JobRecorder | None,
    started: float,
    **details: Any,
) -> None:
    """The audit event ``job.finish``: how the run ended, its rows and its duration."""
    totals = recorder.totals() if recorder is not None else {}
    _audit(
        store,
        job_id,
        "job.finish",
        status=status,
        rows_read=totals.get("rows_read", 0),
        rows_copied=totals.get("rows_copied", 0),
        rows_quarantined=totals.get("rows_quarantined", 0),
        seconds=round(time.monotonic() - started, 3),
        **details,
    )


def mask_salt(store: Store, job_id: int) -> str:
    """The masking salt of the job's project: equal values mask alike across its jobs and
    tables (joins line up), differently in other projects."""
    return store.cipher.project_salt(jobs.get_job(store, job_id).project_id)


def _said(count: int | None) -> str:
    return "any number of" if count is None else str(count)


def partition_task(
    plan: MigrationPlan,
    tp: TablePlan,
    p: Partition,
    source_url: str,
    target_url: str,
    options: CopyOptions,
    timeout: float,
) -> PartitionTask:
    return PartitionTask(
        job_key=plan.job_key,
        source_url=source_url,
        target_url=target_url,
        table=tp.source,
        partition=p,
        target_schema=tp.target_schema,
        target_table=tp.target_name,
        transforms=tp.transforms,
        read_columns=tp.read_columns,
        expressions=tp.expressions,
        text_columns=tp.copy_text_columns,
        key_columns=tp.key_columns,
        batch_rows=options.batch_rows,
        max_bad_rows=options.max_bad_rows,
        max_rows_per_second=None,  # the job's rate is shared out by execute.throttled
        connect_timeout=timeout,
        salt=plan.salt,
        read_ahead=options.read_ahead,
        fake_pools=masking.pools_for([t.mask for t in tp.transforms if t.mask]),
        source_options=dict(options.source_options),
        log_level=logging.getLogger("workbench").getEffectiveLevel(),
    )


def _result(
    job_id: int,
    status: str,
    recorder: records.JobRecorder,
    validation: ValidationReport | None,
    warnings: Sequence[str],
    started: float,
    dashboard: str | None,
) -> JobResult:
    totals = recorder.totals()
    seconds = round(time.monotonic() - started, 3)
    return JobResult(
        job_id=job_id,
        status=status,
        tables={name: dict(stats) for name, stats in recorder.tables.items()},
        rows_copied=totals["rows_copied"],
        rows_quarantined=totals["rows_quarantined"],
        rows_read=totals["rows_read"],
        seconds=seconds,
        rows_per_second=round(totals["rows_read"] / seconds, 1) if seconds else 0.0,
        validated=bool(validation and validation.ok),
        validation=validation,
        warnings=list(warnings),
        dashboard_link=dashboard,
    )


def _fingerprint_options(options: CopyOptions) -> dict[str, Any]:
    """Options that change what lands in the target (not speed knobs such as workers)."""
    return {
        "target_schema": options.target_schema,
        "type_options": options.type_options,
        "transforms": options.transforms,
        "mapping": options.mapping,
    }
