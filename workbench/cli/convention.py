"""One way to name the project: the first argument of every command that needs one.

``workbench schema show shop src``, ``workbench profile shop src``, ``workbench connection add
shop src URL``. Commands that only filter by a project (``jobs``, ``copy``, ``doctor``) take
``--project``. The connection commands' older spelling, ``-p/--project NAME`` anywhere on the
line, still works for a while: it is moved to the front, with a note on stderr.
"""

from __future__ import annotations

import click

_SPELLINGS = ("-p", "--project")


def _pull_project(args: list[str]) -> tuple[list[str], str | None]:
    """``args`` without ``-p NAME``/``--project NAME``/``--project=NAME``, and that NAME."""
    out: list[str] = []
    found: str | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            out.extend(args[i:])
            break
        if arg in _SPELLINGS and i + 1 < len(args) and found is None:
            found = args[i + 1]
            i += 2
            continue
        if arg.startswith("--project=") and found is None:
            found = arg.split("=", 1)[1]
        else:
            out.append(arg)
        i += 1
    return out, found


class ProjectFirst(click.Command):
    """A command whose first argument is PROJECT, also accepting the older ``-p NAME``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest, project = _pull_project(list(args))
        if project is not None:
            command = ctx.command_path.split(" ", 1)[-1]
            click.echo(
                f"Note: the project is now the first argument: `workbench {command} {project} "
                "...` (`-p/--project` will go away).",
                err=True,
            )
            rest.insert(0, project)
        return super().parse_args(ctx, rest)
