"""``workbench flag list|set`` and ``workbench lineage PROJECT``."""

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
    from workbench.governance import flags

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
    from workbench.governance import flags

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


commands = [flag]
