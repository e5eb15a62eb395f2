"""Output that honours ``--json``: one JSON document on stdout, or text for people."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import click


def emit(data: Any, human: Callable[[], None] | str | None = None) -> None:
    """Print ``data`` as JSON with ``--json``; else call ``human`` (or print it, if text)."""
    from workbench.cli import state

    if state().json:
        click.echo(json.dumps(data, ensure_ascii=False, default=str, indent=None))
    elif callable(human):
        human()
    elif human is not None:
        click.echo(human)
    else:
        click.echo(json.dumps(data, ensure_ascii=False, default=str, indent=2))


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], empty: str = "(none)") -> None:
    """Print rows as an aligned text table with the given columns."""
    if not rows:
        click.echo(empty)
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def fields(pairs: Sequence[tuple[str, Any]]) -> None:
    """Print ``name: value`` lines, aligned."""
    width = max(len(k) for k, _ in pairs)
    for key, value in pairs:
        click.echo(f"{key + ':':<{width + 1}} {_cell(value)}")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if hasattr(value, "isoformat"):
        return value.isoformat(timespec="seconds")
    return " ".join(str(value).split())
