"""``workbench schedule add|list|runs|remove`` and ``workbench scheduler`` (which runs them)."""

from __future__ import annotations

import click

from workbench.cli import state
from workbench.cli.output import emit, table


@click.group()
def schedule() -> None:
    """Recurring validations and copies of a project (cron, in UTC)."""


@schedule.command("add")
@click.argument("project")
@click.argument("name")
@click.option(
    "--cron",
    required=True,
    metavar="EXPR",
    help="When, as crontab: '0 2 * * *' (02:00 daily); 6 fields: seconds first.",
)
@click.option(
    "--validate",
    "validate_job",
    type=int,
    metavar="JOB",
    help="Validate JOB's copy again (counts and checksums per partition).",
)
@click.option(
    "--copy",
    "copy_pair",
    nargs=2,
    metavar="SOURCE TARGET",
    help="Copy between two of the project's stored connections.",
)
@click.option("--tables", multiple=True, metavar="PATTERN", help="Copy only these tables.")
@click.option(
    "--if-exists",
    type=click.Choice(["fail", "replace", "append", "truncate"]),
    default="replace",
    show_default=True,
    help="What a copy does with existing tables.",
)
def schedule_add(project, name, cron, validate_job, copy_pair, tables, if_exists) -> None:
    """Schedule NAME in PROJECT: a validation (--validate JOB) or a copy (--copy SRC TGT)."""
    from workbench.store.schedules import create_schedule

    source, target = copy_pair or (None, None)
    options = {"if_exists": if_exists, **({"tables": list(tables)} if tables else {})}
    record = create_schedule(
        state().store(),
        project,
        name,
        cron,
        validate_job=validate_job,
        source=source,
        target=target,
        options=options if copy_pair else None,
    )
    emit(
        record.to_dict(),
        f"Schedule {record.name!r} ({record.kind}, {record.cron!r}) added; "
        "`workbench scheduler` runs it.",
    )


@schedule.command("list")
@click.argument("project")
def schedule_list(project) -> None:
    """The project's schedules: runs so far, missed and failed ones, the last job."""
    from workbench.store.schedules import list_schedules

    rows = [s.to_dict() for s in list_schedules(state().store(), project)]
    columns = ["name", "kind", "cron", "runs", "missed", "failed", "last_fire_time", "last_job_id"]
    emit(rows, lambda: table(rows, columns))


@schedule.command("runs")
@click.argument("project")
@click.argument("name")
def schedule_runs_(project, name) -> None:
    """Every run of schedule NAME: when, which scheduler, the job, how it ended."""
    from workbench.store.schedules import schedule_runs

    rows = schedule_runs(state().store(), project, name)
    emit(rows, lambda: table(rows, ["fire_time", "status", "job_id", "scheduler", "error"]))


@schedule.command("remove")
@click.argument("project")
@click.argument("name")
def schedule_remove(project, name) -> None:
    from workbench.store.schedules import remove_schedule

    remove_schedule(state().store(), project, name)
    emit({"removed": name}, f"Schedule {name!r} removed.")


@click.command("scheduler")
@click.option(
    "--poll",
    type=click.FloatRange(0.2),
    default=10.0,
    show_default=True,
    help="Seconds between readings of the schedules in the store.",
)
@click.option(
    "--grace",
    type=click.FloatRange(1),
    default=60.0,
    show_default=True,
    help="A run not started this many seconds after its time is recorded as missed.",
)
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS",
    help="The cluster the runs use (default WORKBENCH_DASK_ADDRESS).",
)
@click.option(
    "--files-under",
    multiple=True,
    metavar="DIR",
    help="Allow scheduled copies from SQLite/DuckDB/CSV/Parquet under DIR (default: none).",
)
def scheduler(poll, grace, dask_address, files_under) -> None:
    """Run the schedules of every project on time, until interrupted (SIGINT/SIGTERM).

    Start several for availability: each run is started by exactly one of them."""
    import os
    import signal

    from workbench.scheduler import Scheduler

    if dask_address:
        os.environ["WORKBENCH_DASK_ADDRESS"] = dask_address
    from pathlib import Path

    service = Scheduler(
        state().store(), poll=poll, grace=grace, files_under=tuple(Path(d) for d in files_under)
    )
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: service.stop.set())
    click.echo(f"workbench scheduler {service.name} running (poll {poll:g} s)", err=True)
    service.run()


commands = [schedule, scheduler]
