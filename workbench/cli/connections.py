"""``workbench connection add|list|show|test|remove PROJECT ...``.

The password comes from the URL, from an environment variable (``--password-env VAR``) or
from a hidden prompt (``--prompt-password``); it is stored encrypted and never printed.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING

import click

from workbench.cli import state
from workbench.cli.convention import ProjectFirst
from workbench.cli.output import emit, fields, table
from workbench.errors import InvalidInputError

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from workbench.connectors.base import ConnectionTest, ServerAdvice
    from workbench.store import Store

_project_argument = click.argument("project")


@click.group()
def connection() -> None:
    """Add, list, test and remove a project's database connections."""


@connection.command(cls=ProjectFirst)
@_project_argument
@click.argument("name")
@click.argument("url")
@click.option(
    "--role",
    type=click.Choice(["source", "target"]),
    default="source",
    show_default=True,
    help="Read from it (source) or load into it (target).",
)
@click.option("--password-env", metavar="VAR", help="Take the password from this variable.")
@click.option("--prompt-password", is_flag=True, help="Ask for the password (hidden).")
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="A connector option (repeatable); VALUE is JSON or text.",
)
def add(
    project: str,
    name: str,
    url: str,
    role: str,
    password_env: str | None,
    prompt_password: bool,
    options: tuple[str, ...],
) -> None:
    """Add connection NAME with URL, e.g. mysql://app@db1:3306/shop."""
    from workbench.store import connections

    if password_env and prompt_password:
        raise click.UsageError("Use --password-env or --prompt-password, not both")
    password = None
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            raise InvalidInputError(
                f"The environment variable {password_env} is not set or empty; export it "
                "with the password, or use --prompt-password"
            )
    elif prompt_password:
        password = click.prompt("Password", hide_input=True, err=True)
    record = connections.add_connection(
        state().store(),
        project,
        name,
        url,
        role=role,
        password=password,
        options=_parse_options(options),
    )
    emit(
        record.to_dict(),
        f"Added {record.role} connection {record.name!r} ({record.url}) to project "
        f"{record.project!r}" + (" with an encrypted password." if record.has_secret else "."),
    )


@connection.command("list", cls=ProjectFirst)
@_project_argument
def list_(project: str) -> None:
    """List a project's connections (URLs without passwords)."""
    from workbench.store import connections

    rows = [c.to_dict() for c in connections.list_connections(state().store(), project)]
    emit(rows, lambda: table(rows, ["name", "kind", "role", "url", "has_secret"]))


@connection.command(cls=ProjectFirst)
@_project_argument
@click.argument("name")
def show(project: str, name: str) -> None:
    """Show one connection (URL without password)."""
    from workbench.store import connections

    record = connections.get_connection(state().store(), project, name)
    emit(record.to_dict(), lambda: fields(list(record.to_dict().items())))


@connection.command(cls=ProjectFirst)
@_project_argument
@click.argument("name")
def test(project: str, name: str) -> None:
    """Connect once and report the server version and latency."""
    result = check_stored(state().store(), project, name)
    data = {
        "connection": name,
        "project": project,
        "ok": result.ok,
        "server_version": result.server_version,
        "latency_ms": round(result.latency_ms, 1),
        "url": result.url,
    }
    emit(
        data,
        f"Connection {name!r} answered in {result.latency_ms:.0f} ms: {result.server_version}",
    )


@connection.command(cls=ProjectFirst)
@_project_argument
@click.argument("name")
def remove(project: str, name: str) -> None:
    """Remove a connection (refused while a schema mapping uses it)."""
    from workbench.store import connections

    connections.remove_connection(state().store(), project, name)
    emit({"removed": name, "project": project}, f"Removed connection {name!r}.")


def _parse_options(options: tuple[str, ...]) -> dict:
    parsed: dict = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--option")
        try:
            parsed[key.strip()] = json.loads(value)
        except ValueError:
            parsed[key.strip()] = value
    return parsed


commands = [connection]


def stored_load_advice(
    store: Store, project: str | int | None, name: str | int
) -> list[ServerAdvice]:
    """The stored connection's server settings that slow a bulk load (best effort: a server
    that will not say, e.g. for lack of privileges, gives no advice rather than an error)."""
    from workbench.connectors import connect
    from workbench.store import connections

    url, _label, options = connections.connection_to_test(store, project, name)
    connector = connect(url, connect_timeout=store.settings.connect_timeout, options=options)
    try:
        return connector.load_advice()
    except Exception:  # advice is a courtesy; check_stored reports real connection problems
        log.debug("no load advice from %s", connector, exc_info=True)
        return []
    finally:
        connector.close()


def check_stored(store: Store, project: str | int | None, name: str | int) -> ConnectionTest:
    """Connect once to a stored connection (the store hands over its URL; connectors open it)."""
    from workbench.connectors import check_url
    from workbench.store import connections

    url, label, options = connections.connection_to_test(store, project, name)
    return check_url(url, label, connect_timeout=store.settings.connect_timeout, options=options)
