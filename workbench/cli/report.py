"""``workbench report compliance PROJECT [--job N | --since DATE [--until DATE]]``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from workbench.cli import state
from workbench.cli.output import emit

_DATE = click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"])


@click.group()
def report() -> None:
    """Reports for people outside the project (compliance)."""


@report.command("compliance")
@click.argument("project")
@click.option("--job", "job_id", type=int, help="Report on this job (default: the newest).")
@click.option("--since", type=_DATE, help="Report on the jobs created from this date on.")
@click.option("--until", type=_DATE, help="... up to and including this date.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="HTML file to write (default: compliance-PROJECT-SCOPE.html here).",
)
def compliance(
    project: str,
    job_id: int | None,
    since: datetime | None,
    until: datetime | None,
    output: Path | None,
) -> None:
    """PII columns, their masking or exemption, violations, runs and validation of PROJECT."""
    from workbench.governance.compliance import compliance_report, write_html

    if job_id is not None and (since or until):
        raise click.UsageError("Give --job or --since/--until, not both.")
    if until is not None and since is None:
        raise click.UsageError("--until needs --since.")
    # a date alone means the whole day; a time given is kept
    lower = since.date() if since and since.time() == datetime.min.time() else since
    upper = until.date() if until and until.time() == datetime.min.time() else until
    result = compliance_report(state().store(), project, job=job_id, since=lower, until=upper)
    if output is None:
        if since is not None:
            scope = f"{since:%Y%m%d}" + (f"-{until:%Y%m%d}" if until else "")
        else:
            scope = f"job{result.jobs[0].id}" if result.jobs else "none"
        output = Path(f"compliance-{result.project}-{scope}.html")
    path = write_html(result, output).resolve()
    emit(
        {"path": str(path), "summary": result.summary(), "report": result.to_dict()},
        f"{path}\n{result.project}: {result.summary_line()}",
    )


commands = [report]
