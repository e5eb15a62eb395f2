"""``workbench profile PROJECT CONNECTION [TABLE ...]``: column profiles and quality scores of
a connection's tables (reused from the store while unchanged), and ``workbench profile drift
JOB``: before/after drift of a finished migration job.

``profile`` is a group whose default command is ``tables``: ``workbench profile shop src``
is ``workbench profile tables shop src``. (A project literally named ``drift`` is reached
with the explicit ``tables`` form.)
"""

from __future__ import annotations

from typing import Any

import click

from workbench.cli import state
from workbench.cli.output import emit, table


class _DefaultGroup(click.Group):
    """A group that runs ``tables`` when the first word is not one of its commands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["tables", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultGroup)
def profile() -> None:
    """Profile a connection's tables, or report drift after a migration job."""


def drift_for_job(store: Any, job_id: int, options: Any = None) -> Any:
    """The :class:`~workbench.profiling.DriftReport` of a finished job: each planned table in
    the source against its copy in the target."""
    from workbench.connectors import connect
    from workbench.engine.repair import replan
    from workbench.profiling import DriftPair, drift_report

    plan, source_url, target_url, _ = replan(store, job_id)
    source = connect(source_url, connect_timeout=store.settings.connect_timeout)
    target = connect(target_url, connect_timeout=store.settings.connect_timeout)
    try:
        pairs = []
        for tp in plan.tables:
            found = target.introspect(schemas=[tp.target_schema], tables=[tp.target_name]).tables
            match = [t for t in found if t.name == tp.target_name]
            if not match:
                continue
            columns = {c.source: c.name for c in tp.columns if c.source}
            pairs.append(DriftPair(tp.source, match[0], columns))
        return drift_report(source, target, pairs, options)
    finally:
        source.close()
        target.close()


def _options(sample_size: int | None) -> Any:
    from workbench.profiling import ProfileOptions

    return ProfileOptions(sample_size=sample_size) if sample_size else ProfileOptions()


@profile.command("tables")
@click.argument("project")
@click.argument("connection")
@click.argument("tables", nargs=-1)
@click.option("--sample-size", type=int, help="Rows sampled per table (default 10,000).")
@click.option("--refresh", is_flag=True, help="Profile again even if the table is unchanged.")
@click.option("--workers", type=int, help="Dask workers for a local cluster.")
@click.option("--dask", "dask_address", help="Address of a Dask scheduler to run on.")
def tables_command(
    project: str,
    connection: str,
    tables: tuple[str, ...],
    sample_size: int | None,
    refresh: bool,
    workers: int | None,
    dask_address: str | None,
) -> None:
    """Column profiles, semantic types, PII flags and quality scores of TABLES (default: all)."""
    import contextlib

    from workbench.profiling import profiles_for
    from workbench.store import connections

    store = state().store()
    record = connections.get_connection(store, project, connection)
    url = connections.connection_url(store, record)
    # a local cluster costs a few seconds to start: worth it for many tables only
    parallel = bool(dask_address or workers) or not tables or len(tables) > 3
    with contextlib.ExitStack() as stack:
        client = None
        if parallel:
            from workbench.engine.cluster import dask_client

            client = stack.enter_context(dask_client(dask_address, workers))
        profiles = profiles_for(
            store,
            url,
            list(tables) or None,
            _options(sample_size),
            refresh=refresh,
            client=client,
            connect_options=record.options,
        )
    data = [p.as_dict() for p in profiles]

    def human() -> None:
        for p in profiles:
            reused = ", reused" if p.reused else ""
            score = "-" if p.quality.score is None else f"{p.quality.score:.2f}"
            click.echo(
                f"{p.qualified_name}: {p.rows:,} rows, sample {p.sample_rows:,} "
                f"({p.sample_method}{reused}), quality {score}"
            )
            table(
                [
                    {
                        "column": c.name,
                        "type": c.native_type,
                        "nulls": f"{c.null_ratio:.1%}",
                        "distinct": c.distinct,
                        "semantic": c.semantic and f"{c.semantic} {c.semantic_share:.0%}",
                        "pattern": c.pattern,
                        "pii": ",".join(c.pii),
                        "quality": c.quality.score,
                    }
                    for c in p.columns
                ],
                ["column", "type", "nulls", "distinct", "semantic", "pattern", "pii", "quality"],
            )
            click.echo("")

    emit(data, human)


@profile.command("drift")
@click.argument("job", type=int)
@click.option("--sample-size", type=int, help="Rows sampled per table (default 10,000).")
def drift_command(job: int, sample_size: int | None) -> None:
    """Before/after drift of a finished job: counts, nulls, distinct, lengths, distributions."""
    report = drift_for_job(state().store(), job, _options(sample_size))

    def human() -> None:
        table(
            [
                {
                    "status": c.status.upper(),
                    "table": c.table,
                    "column": c.column,
                    "rows": f"{c.source_rows}->{c.target_rows}",
                    "nulls": f"{c.source_null_ratio:.1%}->{c.target_null_ratio:.1%}",
                    "distinct": f"{c.source_distinct}->{c.target_distinct}",
                    "distance": c.distance,
                    "flags": ", ".join(c.flags),
                }
                for c in report.columns
            ],
            ["status", "table", "column", "rows", "nulls", "distinct", "distance", "flags"],
        )
        click.echo(f"{len(report.red)} red columns")

    emit(report.as_dict(), human)


commands = [profile]
