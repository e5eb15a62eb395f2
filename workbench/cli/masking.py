"""``workbench masking suggest|apply|preview|policy|exempt|unexempt``: masks of PII columns
and the project's masking policy."""

from __future__ import annotations

from typing import Any

import click

from workbench.cli import state
from workbench.cli.output import emit, fields, table

KINDS = ("none", "hash", "redact", "partial", "null", "fake")


@click.group()
def masking() -> None:
    """Suggest, preview and apply masks of PII columns; the project's masking policy."""


def _split(column: str) -> tuple[str, str]:
    table_name, _, name = column.rpartition(".")
    if not table_name or not name:
        raise click.BadParameter(f"name the column as TABLE.COLUMN, got {column!r}")
    return table_name, name


def _mask_options(func: Any) -> Any:
    options = [
        click.option("--provider", help="fake: Faker provider (name, email, phone, ...)."),
        click.option("--locale", help="fake: Faker locale (default en_US)."),
        click.option("--keep-last", type=click.IntRange(0), help="partial: characters kept."),
        click.option("--char", help="partial: the masking character (default *)."),
        click.option("--length", type=click.IntRange(1, 64), help="hash: hex characters."),
        click.option("--replacement", help="redact: the fixed text (default ***)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _mask(
    store: Any, project: str, table_name: str, name: str, kind: str, **options: Any
) -> dict | None:
    """The mask of ``kind``; a fake takes the suggested provider unless --provider is given."""
    from workbench.governance.masking_suggestions import mask_spec, suggest_masks

    like = None
    if kind == "fake" and not options.get("provider"):
        found = [
            s
            for s in suggest_masks(store, project, tables=[table_name])
            if s.column == name and s.mask
        ]
        like = found[0].mask if found else None
    return mask_spec(kind, like=like, **options)


@masking.command("suggest")
@click.argument("project")
@click.option("--connection", help="The source connection (default: the mappings' source).")
@click.option("--table", "tables", multiple=True, help="Only this table (repeat).")
def suggest(project: str, connection: str | None, tables: tuple[str, ...]) -> None:
    """Masks for PROJECT's PII columns, from the stored profiles of its source."""
    from workbench.governance.masking_suggestions import suggest_masks

    found = suggest_masks(state().store(), project, connection=connection, tables=tables or None)
    rows = [s.to_dict() for s in found]
    shown = [
        {**r, "mask": _rule(r["mask"]), "target": r["target_column"] or "(not mapped)"}
        for r in rows
    ]
    emit(
        rows,
        lambda: table(
            shown,
            ["name", "status", "mask", "target", "reason"],
            empty="No PII columns in the stored profiles; profile the source first "
            "(`workbench profile tables PROJECT SOURCE`)",
        ),
    )


@masking.command("apply")
@click.argument("project")
@click.argument("column")
@click.argument("kind", type=click.Choice(KINDS))
@_mask_options
def apply(project: str, column: str, kind: str, **options: Any) -> None:
    """Mask COLUMN (TABLE.COLUMN) of PROJECT with KIND in its mapping (none: unmask)."""
    from workbench.governance.masking_suggestions import set_column_mask

    store = state().store()
    table_name, name = _split(column)
    mask = _mask(store, project, table_name, name, kind, **options)
    record = set_column_mask(store, project, table_name, name, mask)
    done = f"masked with {_rule(mask)}" if mask else "no longer masked"
    emit(
        {"column": column, "mask": mask, "mapping": record.to_dict()},
        f"{column} is {done} (mapping {record.label}, version {record.version}).",
    )


@masking.command("preview")
@click.argument("project")
@click.argument("column")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--rows", type=click.IntRange(1, 100), default=5, show_default=True)
@_mask_options
def preview(project: str, column: str, kind: str, rows: int, **options: Any) -> None:
    """Before -> after of masking COLUMN (TABLE.COLUMN) with KIND, on real source values."""
    from workbench.governance.mask_preview import preview_mask

    store = state().store()
    table_name, name = _split(column)
    mask = _mask(store, project, table_name, name, kind, **options)
    found = [r.to_dict() for r in preview_mask(store, project, table_name, name, mask, rows=rows)]
    emit(
        {"column": column, "mask": mask, "rows": found},
        lambda: table(found, ["before", "after"], empty=f"{column} has no values to preview"),
    )


@masking.command("policy")
@click.argument("project")
@click.option(
    "--require/--no-require",
    "require_masking",
    default=None,
    help="Require every PII column to be masked or exempt (owners only).",
)
def policy_(project: str, require_masking: bool | None) -> None:
    """Show PROJECT's masking policy; --require/--no-require changes it."""
    from workbench.governance import policy

    store = state().store()
    if require_masking is None:
        result = policy.get_policy(store, project)
    else:
        result = policy.set_policy(store, project, require_masking=require_masking)
    emit(result.to_dict(), lambda: _show_policy(result))


@masking.command("exempt")
@click.argument("project")
@click.argument("column")
@click.option("--reason", required=True, help="Why COLUMN may be copied unmasked.")
def exempt(project: str, column: str, reason: str) -> None:
    """Let COLUMN ([SCHEMA.]TABLE.COLUMN) be copied unmasked, for REASON (owners only)."""
    from workbench.governance import policy

    result = policy.exempt_column(state().store(), project, column, reason)
    emit(result.to_dict(), f"{column} is exempt from masking: {result.exemptions[column]}")


@masking.command("unexempt")
@click.argument("project")
@click.argument("column")
def unexempt(project: str, column: str) -> None:
    """Withdraw COLUMN's exemption (owners only)."""
    from workbench.governance import policy

    result = policy.unexempt_column(state().store(), project, column)
    emit(result.to_dict(), f"{column} is no longer exempt from masking.")


def _show_policy(result: Any) -> None:
    fields(
        [
            ("masking", "required" if result.require_masking else "not required"),
            ("updated by", result.updated_by),
            ("updated at", result.updated_at),
        ]
    )
    table(
        [{"column": k, "reason": v} for k, v in sorted(result.exemptions.items())],
        ["column", "reason"],
        empty="No exempt columns.",
    )


def _rule(mask: dict | None) -> str | None:
    if not mask:
        return None
    options = ", ".join(f"{k}={v}" for k, v in mask.items() if k != "kind")
    return f"{mask['kind']}({options})" if options else mask["kind"]


commands = [masking]
