"""The ``workbench`` command: a click group, its error boundary, and one module per group.

Adding commands is a one-line change: write ``workbench/cli/<name>.py`` defining click
commands or groups and a module-level list ``commands = [...]``, then add ``"<name>"`` to
:data:`COMMAND_MODULES`. Every registered command gets ``--json`` and ``--debug``; inside a
command call :func:`state` for the settings, the open store (:meth:`CliState.store`) and
:func:`workbench.cli.output.emit` for output that honours ``--json``.

Errors: a :class:`~workbench.errors.WorkbenchError` (or any other exception) becomes one
line on stderr and the error kind's exit code (:data:`workbench.errors.EXIT_CODES`: 1 in
general, 2 for usage errors, 3 cannot connect, 4 validation failed, 5 job incomplete, ...);
the traceback only with ``--debug``.
Every message passes through :func:`~workbench.urls.mask_text`.

Commands import the parts they use inside the command function, on purpose: `workbench
--help` or `workbench project list` then starts without Dask, Arrow's compute kernels,
sqlglot or scikit-learn (about a second saved per invocation).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from workbench.config import Settings, configure_logging, load_settings
from workbench.errors import WorkbenchError

# one module per command group; a new group is one more name here
COMMAND_MODULES: tuple[str, ...] = (
    "store",
    "projects",
    "connections",
    "jobs",
    "schema",
    "profile",
    "match",
)
COMMAND_MODULES += ("dashboard", "demo")
COMMAND_MODULES += ("governance",)
COMMAND_MODULES += ("report",)
COMMAND_MODULES += ("masking",)
COMMAND_MODULES += ("organizations",)
COMMAND_MODULES += ("serve",)
COMMAND_MODULES += ("schedules",)

log = logging.getLogger(__name__)


@dataclass
class CliState:
    """What one invocation shares between the group and its command."""

    debug: bool = False
    json: bool = False
    verbose: int = 0
    organization: str | None = None
    _settings: Settings | None = None
    _stores: dict[bool, Any] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(organization=self.organization)
            # WARNING is Python's own default (last-resort handler): install ours only if asked
            if not self.verbose and self._settings.log_level != "WARNING":
                configure_logging(self._settings.log_level)
        return self._settings

    def store(self, migrate: bool = True) -> Any:
        """The open store (opened once per invocation, closed when the command ends)."""
        if migrate not in self._stores:
            from workbench.store import open_store

            store = open_store(self.settings, migrate=migrate)
            self._stores[migrate] = store
            click.get_current_context().find_root().call_on_close(store.close)
        return self._stores[migrate]


def state() -> CliState:
    ctx = click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def _set_flag(name: str) -> Callable[[click.Context, click.Parameter, bool], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            setattr(state(), name, True)

    return callback


def _common_options() -> list[click.Option]:
    return [
        click.Option(
            ["--json", "json_output"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_set_flag("json"),
            help="Print one JSON object (or list) on stdout; errors as JSON on stderr.",
        ),
        click.Option(
            ["--debug"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_set_flag("debug"),
            help="Show the traceback of an error.",
        ),
    ]


class WorkbenchGroup(click.Group):
    """A click group whose ``invoke`` is the error boundary of the whole command."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:  # `workbench jobs | head`: the reader left; nothing to say
            _quiet_stdout()
            ctx.exit(0)
        except Exception as exc:
            _report(exc, state())
            ctx.exit(getattr(exc, "exit_code", 1) if isinstance(exc, WorkbenchError) else 1)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so Python's flush at exit raises no second BrokenPipeError."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (e.g. under a test runner)
        pass


def _report(exc: BaseException, cli: CliState) -> None:
    from workbench.urls import mask_text

    if cli.debug:
        click.echo(mask_text("".join(traceback.format_exception(exc))), err=True, nl=False)
    if isinstance(exc, WorkbenchError):
        message = exc.message
    else:
        message = f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)"
    message = mask_text(" ".join(str(message).split()))  # one line
    if cli.json:
        payload = {"error": {"type": type(exc).__name__, "message": message}}
        click.echo(json.dumps(payload, ensure_ascii=False), err=True)
    else:
        click.echo(f"Error: {message}", err=True)


@click.group(
    "workbench", cls=WorkbenchGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr: -v info, -vv debug.")
@click.option(
    "--org",
    "organization",
    metavar="NAME",
    help="Work in this organization (else WORKBENCH_ORGANIZATION, or your only one).",
)
@click.version_option(package_name="workbench")
def main(verbose: int, organization: str | None) -> None:
    """Migrate databases into PostgreSQL, from a notebook or this command.

    The metadata store is an embedded PostgreSQL under the data directory unless
    WORKBENCH_DATABASE_URL points at a server. Start with `workbench init`, then
    `workbench doctor`.
    """
    cli = state()
    cli.verbose = verbose
    if organization:
        cli.organization = organization
    if verbose:
        configure_logging("DEBUG" if verbose > 1 else "INFO")


def _register() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        for command in module.commands:
            _add_common_options(command)
            main.add_command(command)
    _add_common_options(main)


def _add_common_options(command: click.Command) -> None:
    names = {p.name for p in command.params}
    command.params.extend(o for o in _common_options() if o.name not in names)
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_common_options(sub)


_register()


def run() -> None:
    """The console script: :func:`main`, then a quick exit. Once the command has returned,
    its threads have ended and the exit handlers have run (logs and traces flushed), the
    interpreter's own teardown of native libraries (Arrow's pools, the drivers' runtimes)
    only costs time: about 0.8 s after a copy, skipped."""
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # the reader may have left (`workbench jobs | head`)
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): printed, status 1
        print(code, file=sys.stderr, flush=True)
        code = 1
    os._exit(code)


if __name__ == "__main__":  # python -m workbench.cli
    run()
