"""``workbench copy``, ``workbench jobs``, ``workbench job show``, ``workbench validate``."""

from __future__ import annotations

import json
from typing import Any

import click

from workbench.cli import state
from workbench.cli.output import emit, fields, table

_JOB_COLUMNS = [
    "id", "project", "kind", "status", "rows_copied", "rows_per_second", "seconds", "behind",
    "created_at",
]  # fmt: skip


def _progress():
    from workbench.engine.progress import NullProgress

    if state().json:
        return NullProgress()
    from workbench.cli.progress import TqdmProgress

    return TqdmProgress()


def _finish(run) -> None:
    """Run a job function; print its summary (JSON last line with --json), exit 1 on failure."""
    from workbench.errors import WorkbenchError

    try:
        result = run()
    except WorkbenchError as exc:
        job_id = exc.fields.get("job_id")
        if job_id is not None and state().json:
            from workbench.store import jobs

            record = jobs.get_job(state().store(), job_id)
            stats = record.statistics or {}
            click.echo(
                json.dumps(
                    {
                        "job_id": job_id,
                        "status": record.status,
                        "error": record.error,
                        "tables": stats.get("tables", {}),
                        "rows_copied": stats.get("rows_copied", 0),
                        "rows_quarantined": stats.get("rows_quarantined", 0),
                        "seconds": stats.get("seconds", 0),
                        "rows_per_second": stats.get("rows_per_second", 0),
                        "validated": False,
                    },
                    default=str,
                )
            )
        raise
    summary = result.summary()

    def human() -> None:
        click.echo(
            f"Job {result.job_id} {result.status}: {result.rows_copied:,} rows copied"
            f" ({result.rows_quarantined:,} quarantined) in {result.seconds:.1f} s,"
            f" {result.rows_per_second:,.0f} rows/s;"
            f" validated: {'yes' if result.validated else 'no'}"
        )
        from workbench import render

        rows = [
            {"table": k, **v, "seconds": render.seconds(v.get("seconds"))}
            for k, v in result.tables.items()
        ]
        table(
            rows,
            ["table", "rows_read", "rows_written", "rows_quarantined", "partitions", "seconds"],
        )
        for w in result.warnings:
            click.echo(f"warning: {w}", err=True)
        for item in result.not_migrated:
            click.echo(f"not migrated: {item['object']}: {item['reason']}", err=True)

    emit(summary, human)


def _stored(store, project: str | None, ref: str):
    """The stored connection of ``--project`` that ``ref`` names, or None for a URL."""
    if "://" in ref:
        return None
    if not project:
        raise click.UsageError(
            f"{ref!r} is not a URL (kind://user@host/database); to copy from or to a stored "
            "connection, name its project with --project"
        )
    from workbench.store import connections

    return connections.get_connection(store, project, ref)


def _with_password(url: str, env: str | None, prompt: bool, side: str) -> str:
    """``url`` with its password from ``env`` or a hidden prompt (never from argv)."""
    import os

    from workbench.errors import InvalidInputError
    from workbench.urls import mask_url, parse_url, with_password

    if env:
        password = os.environ.get(env)
        if not password:
            raise InvalidInputError(
                f"The environment variable {env} (the {side}'s password) is not set or empty"
            )
        return with_password(url, password)
    parsed = parse_url(url)
    if prompt and parsed.username and parsed.password is None:
        password = click.prompt(f"Password for {mask_url(url)}", hide_input=True, err=True)
        return with_password(url, password)
    return url


@click.command("copy")
@click.argument("source_url", required=False)
@click.argument("target_url", required=False)
@click.option("--tables", "-t", multiple=True, help="Only these tables (names or glob patterns).")
@click.option("--exclude", "-x", multiple=True, help="Leave out these tables (names or patterns).")
@click.option(
    "--target-schema",
    help="Schema for the tables (default: the source's schema or database; public for SQLite).",
)
@click.option("--workers", type=int, help="Local Dask worker processes (default: one per core).")
@click.option("--dask", "dask_address", help="Address of an existing Dask scheduler.")
@click.option("--project", help="Record the job in this project (default: adhoc).")
@click.option(
    "--if-exists",
    type=click.Choice(["fail", "replace", "append"]),
    default="fail",
    show_default=True,
    help="What to do with target tables that already exist.",
)
@click.option("--no-validate", is_flag=True, help="Skip the row count and checksum validation.")
@click.option("--no-finish", is_flag=True, help="Do not build keys, indexes and foreign keys.")
@click.option(
    "--partition-rows",
    type=int,
    default=250_000,
    show_default=True,
    help="Target rows per partition (one Dask task each).",
)
@click.option(
    "--max-bad-rows",
    type=int,
    default=10_000,
    show_default=True,
    help="Error budget: quarantined rows allowed before the job stops.",
)
@click.option("--max-bad-ratio", type=float, help="Error budget as a ratio of rows read (0-1).")
@click.option("--max-rows-per-second", type=float, help="Throttle the job: rows per second in all.")
@click.option(
    "--max-connections",
    type=click.IntRange(1),
    help="Partitions copied at once, each with a source and a target connection "
    "[default: the cluster's threads, at most half of each server's free connections].",
)
@click.option(
    "--shared-files",
    is_flag=True,
    help="A file source is at the same path on every Dask worker (a shared volume).",
)
@click.option(
    "--follow",
    is_flag=True,
    help="Record where the source's change stream ends before copying, so that "
    "`workbench follow JOB` applies every later change (MySQL/MariaDB binlog).",
)
@click.option("--resume", "resume", type=int, metavar="JOB", help="Resume this job instead.")
@click.option(
    "--before",
    "before_sql",
    multiple=True,
    metavar="SQL",
    help="SQL run on the target before its tables are made (repeatable; @FILE reads a file).",
)
@click.option(
    "--after",
    "after_sql",
    multiple=True,
    metavar="SQL",
    help="SQL run on the target after the tables are loaded, keyed and validated (repeatable; "
    "@FILE reads a file).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the plan (tables, partitions, estimated rows) and the exact DDL; change nothing.",
)
@click.option(
    "--source-password-env", metavar="VAR", help="The source's password, from this variable."
)
@click.option(
    "--target-password-env", metavar="VAR", help="The target's password, from this variable."
)
@click.option(
    "--prompt-password",
    is_flag=True,
    help="Ask (hidden) for the password of each URL that has a user but no password.",
)
def copy_(
    source_url,
    target_url,
    tables,
    exclude,
    target_schema,
    workers,
    dask_address,
    project,
    if_exists,
    no_validate,
    no_finish,
    partition_rows,
    max_bad_rows,
    max_bad_ratio,
    max_rows_per_second,
    max_connections,
    shared_files,
    follow,
    resume,
    before_sql,
    after_sql,
    dry_run,
    source_password_env,
    target_password_env,
    prompt_password,
) -> None:
    """Copy a whole database (or --tables) from SOURCE_URL into the PostgreSQL TARGET_URL.

    Creates the target tables, copies on Dask with exactly-once partitions, then builds keys,
    indexes and foreign keys and validates counts and checksums. The job id is printed as
    soon as the job starts; `workbench copy --resume JOB` continues a job that stopped.
    SOURCE_URL and TARGET_URL may name connections of --project instead: the source's stored
    type options then shape the tables, as `workbench schema ddl` shows them. Keep passwords
    off the command line (where `ps` shows them): stored connections, --source-password-env,
    --target-password-env or --prompt-password.
    """
    from workbench.engine.migrate import with_connection_options
    from workbench.engine.run import CopyOptions, copy_database, resume_job
    from workbench.store import connections

    cli = state()
    store = cli.store()
    progress = _progress()
    if resume is not None:
        click.echo(f"Resuming job {resume}", err=True)
        _finish(lambda: resume_job(resume, store=store, progress=progress))
        return
    if not source_url or not target_url:
        raise click.UsageError("SOURCE_URL and TARGET_URL are required (or --resume JOB).")
    options = CopyOptions(
        tables=tables,
        exclude=exclude,
        target_schema=target_schema,
        workers=workers,
        dask_address=dask_address,
        validate=not no_validate,
        if_exists=if_exists,
        partition_rows=partition_rows,
        max_bad_rows=max_bad_rows,
        max_bad_ratio=max_bad_ratio,
        max_rows_per_second=max_rows_per_second,
        max_connections=max_connections,
        shared_files=shared_files,
        finish=not no_finish,
        before_sql=_sql_texts(before_sql),
        after_sql=_sql_texts(after_sql),
        follow=follow,
    )
    source = _stored(store, project, source_url)
    target = _stored(store, project, target_url)
    if source is None:
        source_url = _with_password(source_url, source_password_env, prompt_password, "source")
    if target is None:
        target_url = _with_password(target_url, target_password_env, prompt_password, "target")
    if source is not None:
        options = with_connection_options(options, source)
        source_url = connections.connection_url(store, source)
    if target is not None:
        target_url = connections.connection_url(store, target)
    if dry_run:
        _show_dry_run(source_url, target_url, options)
        return
    _finish(
        lambda: copy_database(
            source_url,
            target_url,
            options,
            store=store,
            project=project,
            progress=progress,
            on_job=lambda job_id: click.echo(f"Job {job_id} started", err=True),
            connection_ids=(source and source.id, target and target.id),
        )
    )


@click.command("migrate")
@click.argument("project")
@click.option("--workers", type=int, help="Local Dask worker processes (default: one per core).")
@click.option("--dask", "dask_address", help="Address of an existing Dask scheduler.")
@click.option("--no-validate", is_flag=True, help="Skip the row count and checksum validation.")
@click.option(
    "--shared-files",
    is_flag=True,
    help="A file source is at the same path on every Dask worker (a shared volume).",
)
@click.option("--resume", "resume", type=int, metavar="JOB", help="Resume this job instead.")
@click.option(
    "--allow-unmasked-pii",
    is_flag=True,
    help="Run even if PII would be copied unmasked against the project's masking policy.",
)
def migrate_(
    project, workers, dask_address, no_validate, shared_files, resume, allow_unmasked_pii
) -> None:
    """Run PROJECT's accepted schema and column mappings from its source to its target.

    Target tables that exist are loaded as they are; missing ones are created with the mapped
    names. Validation and `--resume JOB` work as for `workbench copy`.
    """
    from workbench.engine.migrate import run_migration
    from workbench.engine.run import CopyOptions, resume_job

    store = state().store()
    progress = _progress()
    if resume is not None:
        _finish(lambda: resume_job(resume, store=store, progress=progress))
        return
    options = CopyOptions(
        workers=workers,
        dask_address=dask_address,
        validate=not no_validate,
        if_exists="append",
        shared_files=shared_files,
    )
    _finish(
        lambda: run_migration(
            project,
            store=store,
            options=options,
            progress=progress,
            on_job=lambda job_id: click.echo(f"Job {job_id} started", err=True),
            allow_unmasked_pii=allow_unmasked_pii,
        )
    )


@click.command("jobs")
@click.option("--project", help="Only this project's jobs.")
@click.option("--limit", type=int, default=50, show_default=True)
def jobs_(project, limit) -> None:
    """List jobs, newest first, with their status and throughput."""
    from workbench import render
    from workbench.store import jobs, projects

    store = state().store()
    records = jobs.list_jobs(store, project, limit)
    names = {p.id: p.name for p in projects.list_projects(store, include_archived=True)}
    rows = []
    for r in records:
        stats = r.statistics or {}
        rows.append(
            {
                **r.to_dict(),
                "project": names.get(r.project_id),
                "rows_copied": stats.get("rows_copied"),
                "rows_per_second": stats.get("rows_per_second"),
                "seconds": stats.get("seconds"),
                # a followed copy: how far its follower is behind the source, and its pace
                "seconds_behind": (stats.get("follow") or {}).get("seconds_behind"),
                "changes_per_second": (stats.get("follow") or {}).get("changes_per_second"),
                "changes_behind": (stats.get("follow") or {}).get("changes_behind") or 0,
            }
        )
    shown = [
        {
            **row,
            "rows_per_second": render.number(row["rows_per_second"]),
            "seconds": render.seconds(row["seconds"]),
            "behind": ""
            if row["seconds_behind"] is None
            else (
                f"{render.seconds(row['seconds_behind'])} "
                f"({render.number(row['changes_per_second'])} changes/s"
                + (
                    f", {render.number(row['changes_behind'])} waiting"
                    if row["changes_behind"]
                    else ""
                )
                + ")"
            ),
            "created_at": str(row.get("created_at") or "")[:19].replace("T", " "),
        }
        for row in rows
    ]
    emit(
        rows,
        lambda: table(shown, _JOB_COLUMNS, empty="No jobs yet: `workbench copy SOURCE TARGET`"),
    )


@click.group("job")
def job() -> None:
    """Inspect one job."""


@job.command("show")
@click.argument("job_id", type=int)
@click.option("--logs", "show_logs", is_flag=True, help="Include the job's log events.")
@click.option(
    "--perf",
    is_flag=True,
    help="The performance report: time by phase, rows/s and MB/s per table, whether reading "
    "the source or writing the target bound each, and what to change.",
)
def show(job_id, show_logs, perf) -> None:
    """Show a job: status, parameters, statistics (and logs)."""
    from workbench.store import jobs

    store = state().store()
    if perf:
        from workbench.monitoring.performance import job_performance

        report = job_performance(store, job_id)
        emit(report.as_dict(), lambda: click.echo(report.text()))
        return
    record = jobs.get_job(store, job_id)
    data = record.to_dict()
    logs = [entry.to_dict() for entry in jobs.job_logs(store, job_id)] if show_logs else []
    if show_logs:
        data["logs"] = logs

    def human() -> None:
        stats = record.statistics or {}
        fields(
            [
                ("job", record.id),
                ("kind", record.kind),
                ("status", record.status),
                ("source", record.parameters.get("source")),
                ("target", record.parameters.get("target")),
                ("started", record.started_at),
                ("finished", record.finished_at),
                ("rows copied", stats.get("rows_copied")),
                ("rows/s", stats.get("rows_per_second")),
                ("quarantined", stats.get("rows_quarantined")),
                ("error", record.error),
            ]
        )
        for entry in logs:
            click.echo(f"{entry['at']} {entry['level']:<7} {entry['message']}")

    emit(data, human)


@click.command("validate")
@click.argument("job_id", type=int)
@click.option(
    "--repair", is_flag=True, help="Re-copy the partitions that differ, then check again."
)
def validate_(job_id, repair) -> None:
    """Validate a finished job's copy: counts and checksums per partition, in both databases."""
    from workbench.engine.repair import validate_job

    report = validate_job(job_id, store=state().store(), repair=repair, progress=_progress())
    data = report.as_dict()

    def human() -> None:
        rows = [
            {
                "table": t.table,
                "source_rows": t.source_rows,
                "target_rows": t.target_rows,
                "quarantined": t.quarantined,
                "ok": t.ok,
                "reasons": "; ".join(t.reasons[:2]),
            }
            for t in report.tables
        ]
        table(rows, ["table", "source_rows", "target_rows", "quarantined", "ok", "reasons"])
        click.echo("Validation " + ("passed." if report.ok else "FAILED."))

    emit(data, human)
    if not report.ok:
        raise SystemExit(1)


@click.command("follow")
@click.argument("job_id", type=int)
@click.option("--batch", "batch_changes", type=click.IntRange(1), default=1000, show_default=True,
              help="Row changes per target transaction (whole source transactions).")  # fmt: skip
@click.option("--max-transactions", type=click.IntRange(1),
              help="Stop after this many source transactions (default: at the end).")  # fmt: skip
@click.option("--by", "by", multiple=True, metavar="COLUMN|TABLE.COLUMN",
              help="No change stream: catch up by a column that grows on every write "
              "(updated_at, an increasing id). Deleted rows are not seen.")  # fmt: skip
def follow_(job_id, batch_changes, max_transactions, by) -> None:
    """Apply the source's changes since copy JOB (started with --follow) began, up to now.

    Changes are applied by key in source commit order, in batches that commit together with
    the position after them: run it again (or after a kill) to go on, exactly once. A DDL
    statement on a followed table stops it, naming the statement.

    With --by, a source without a change stream (no binlog privilege, SQLite, ...) is caught
    up instead: rows whose column is at or past what the target holds are upserted by key.
    That does not see deleted rows, nor rows changed without moving the column."""
    from workbench import render
    from workbench.engine.follow import follow_job

    store = state().store()
    if by:
        _catch_up(store, job_id, by)
        return
    result = follow_job(store, job_id, batch_changes=batch_changes,
                        max_transactions=max_transactions)  # fmt: skip
    data = result.as_dict()
    where = result.position
    fields_shown = [
        ("job", job_id),
        ("changes applied", render.number(result.changes)),
        ("transactions", render.number(result.transactions)),
        ("position", f"{where.get('file')}:{where.get('offset')}" if where else "-"),
        ("seconds behind", render.seconds(result.seconds_behind)),
        ("changes behind", render.number(result.changes_behind)),
        ("caught up", "yes" if result.caught_up else "no"),
        ("took", render.seconds(result.seconds)),
    ]
    emit(data, lambda: fields(fields_shown))


def _catch_up(store, job_id: int, by: tuple[str, ...]) -> None:
    from workbench.engine.catch_up import LIMITS, catch_up_job

    if len(by) == 1 and "." not in by[0]:
        chosen: str | dict[str, str] = by[0]
    else:
        bad = [b for b in by if "." not in b]
        if bad:
            raise click.UsageError(f"Give every --by as TABLE.COLUMN when there are several: {bad}")
        chosen = dict(b.rsplit(".", 1) for b in by)
    click.echo(f"Note: {LIMITS}.", err=True)
    result = catch_up_job(store, job_id, chosen)
    rows = [
        {"table": t, "rows": n, "rejected": result.rejected.get(t, 0), "mark": result.marks[t]}
        for t, n in result.tables.items()
    ] + [{"table": t, "rows": "", "rejected": "", "mark": f"skipped: {why}"}
         for t, why in result.skipped.items()]  # fmt: skip
    emit(result.as_dict(), lambda: table(rows, ["table", "rows", "rejected", "mark"]))


@click.command("cutover")
@click.argument("job_id", type=int)
@click.option(
    "--read-only",
    is_flag=True,
    help="First make the source read-only: MySQL/MariaDB SET GLOBAL read_only = ON (every login "
    "without the admin privilege); PostgreSQL: the database's sessions start read-only and the "
    "applications' open sessions are ended. The downtime window is measured.",
)
@click.option(
    "--full-check",
    is_flag=True,
    help="Once writes have stopped, check every partition again (default: those that "
    "differed while the source was live and those a change touched since).",
)
def cutover_(job_id, read_only, full_check) -> None:
    """Cut over to the target of copy JOB (started with --follow): catch up, validate.

    Checks every partition while the source is live, then (with --read-only) stops its
    writes, applies what the follower has left, builds the constraints the copy deferred,
    checks again the partitions that differed or that a change touched since, compares every
    table's row count, and reports the write-downtime window. A mismatch stops it with the
    partitions named (exit code 4): do not switch the applications yet."""
    from workbench import render
    from workbench.engine.cutover import cutover

    store = state().store()
    result = cutover(store, job_id, read_only=read_only, full_check=full_check)
    shown = [
        ("job", job_id),
        ("source read-only", "yes" if result.source_read_only else "no"),
        ("changes applied", render.number(result.changes_applied)),
        ("validated", f"yes ({result.tables} tables)" if result.validated else "no"),
        ("checked again", f"{result.partitions_rechecked} partition(s) after writes stopped"),
        ("window steps", ", ".join(f"{k} {render.seconds(v)}" for k, v in result.steps.items())),
        ("write downtime", render.seconds(result.downtime_seconds)),
        ("took", render.seconds(result.seconds)),
        *[("constraint failed", text) for text in result.constraints_failed],
    ]
    emit(result.as_dict(), lambda: fields(shown))
    if result.constraints_failed:
        raise click.exceptions.Exit(1)


commands = [copy_, migrate_, jobs_, job, validate_, follow_, cutover_]


def _show_dry_run(source_url: str, target_url: str, options: Any) -> None:
    from workbench.engine.dry_run import dry_run

    planned = dry_run(source_url, target_url, options)
    data = planned.to_dict()

    def human() -> None:
        rows = [
            {
                "source": t.source,
                "target": t.target,
                "rows (est.)": f"{t.rows:,}" if t.rows is not None else "—",
                "partitions": t.partitions,
                "key": ", ".join(t.key) or "—",
                "in target": {True: "exists", False: "new", None: "?"}[t.exists],
            }
            for t in planned.tables
        ]
        table(rows, list(rows[0]) if rows else ["source"], empty="No tables to copy.")
        click.echo(
            f"\n{len(planned.tables)} tables, about {planned.rows:,} rows in "
            f"{data['partitions']} partitions. Nothing was changed (--dry-run).\n"
        )
        if planned.target_note:
            click.echo(f"Note: {planned.target_note}")
        existing = [t.target for t in planned.tables if t.exists]
        if existing and options.if_exists == "fail":
            click.echo(
                f"Note: {len(existing)} target tables exist already ({', '.join(existing[:5])}):"
                " the copy would stop; use --if-exists replace or append."
            )
        click.echo(planned.ddl)

    emit(data, human)


def _sql_texts(values: tuple[str, ...]) -> tuple[str, ...]:
    """--before/--after values: SQL text, or @FILE for a file's text."""
    from pathlib import Path

    out = []
    for value in values:
        if value.startswith("@"):
            path = Path(value[1:])
            if not path.is_file():
                raise click.BadParameter(f"{path} is not a file", param_hint="--before/--after")
            value = path.read_text(encoding="utf-8")
        out.append(value)
    return tuple(out)
