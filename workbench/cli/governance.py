"""``workbench flag list|set`` and ``workbench lineage PROJECT [--column] [--record JOB]``."""

from __future__ import annotations

import click

from workbench.cli import state
from workbench.cli.output import emit, table

_FLAG_COLUMNS = ["name", "enabled", "rollout", "users", "is_default", "description"]


@click.group()
def flag() -> None:
    """List and set the organization's feature flags."""


@flag.command("list")
def list_() -> None:
    """List known and stored flags of the current organization."""
    from workbench.store import flags

    rows = [f.as_dict() for f in flags.list_flags(state().store())]
    shown = [{**r, "users": ", ".join(r["users"]) or None} for r in rows]
    emit(rows, lambda: table(shown, _FLAG_COLUMNS))


@flag.command("set")
@click.argument("name")
@click.argument("value", type=click.Choice(["on", "off"]))
@click.option("--user", "-u", "users", multiple=True, help="Always on for this user (repeat).")
@click.option(
    "--rollout",
    type=click.IntRange(0, 100),
    default=None,
    help="Percent of other users it is on for (default 100, or 0 with --user).",
)
def set_(name: str, value: str, users: tuple[str, ...], rollout: int | None) -> None:
    """Turn flag NAME on or off; with --user/--rollout, on for some users only."""
    from workbench.store import flags

    if rollout is None:
        rollout = 0 if users else 100
    result = flags.set_flag(
        state().store(), name, enabled=value == "on", users=users, rollout=rollout
    )
    who = ""
    if result.enabled:
        named = f" for {', '.join(result.users)}" if result.users else ""
        who = f"{named} and {result.rollout}% of other users" if named else f" for {rollout}%"
    emit(result.as_dict(), f"Flag {name!r} is {value}{who}.")


@click.command("lineage")
@click.argument("project")
@click.option("--column", "-c", help="Only rows touching schema.table.column (either side).")
@click.option(
    "--record", "record_job", type=int, help="First derive and store the lineage of job ID."
)
def lineage_(project: str, column: str | None, record_job: int | None) -> None:
    """Column lineage of PROJECT's jobs: source -> transform -> target, newest job first."""
    from workbench.engine.repair import record_lineage
    from workbench.governance import lineage

    store = state().store()
    if record_job is not None:
        record_lineage(store, record_job)
    rows = [r.to_dict() for r in lineage.lineage(store, project, column)]
    shown = [{**r, "transform": _rule_text(r["transform"], r["expression"])} for r in rows]
    emit(
        rows,
        lambda: table(
            shown,
            ["job_id", "source", "transform", "mapping_version", "target"],
            empty="No lineage stored: `workbench lineage PROJECT --record JOB_ID`",
        ),
    )


def _rule_text(rule: dict | None, expression: str | None) -> str | None:
    parts = [f"expression {expression}"] if expression else []
    parts += [f"{k}={v}" for k, v in (rule or {}).items()]
    return "; ".join(parts) or None


commands = [flag, lineage_]
