"""``workbench match PROJECT --source CONN --target CONN``: suggest table and column pairs and
save them as suggested mappings; ``workbench mapping list|show|accept|reject|override|check``:
review them (all through :mod:`workbench.matching.mappings`, ``decisions`` and ``checks``)."""

from __future__ import annotations

from typing import Any

import click

from workbench import render
from workbench.cli import state
from workbench.cli.output import emit, table


def _rows(mapping: Any) -> list[dict[str, Any]]:
    from workbench.matching.explain import reasons_in_words

    return [
        {
            "source": c.source_column or "(computed)",
            "target": c.target_column,
            "confidence": None if c.confidence is None else render.confidence(c.confidence),
            "origin": c.origin,
            "state": c.state,
            "why": reasons_in_words(c.reasons) if c.reasons else "",
            "transform": c.transform,
        }
        for c in mapping.columns
    ]


def _show(mapping: Any) -> None:
    click.echo(f"#{mapping.id} {mapping.label} (version {mapping.version})")
    table(_rows(mapping), ["source", "target", "confidence", "origin", "state", "why", "transform"])


@click.command("match")
@click.argument("project")
@click.option("--source", "source", required=True, help="The source connection's name.")
@click.option("--target", "target", required=True, help="The target connection's name.")
@click.option("--sample-rows", default=500, show_default=True, help="Rows read per table.")
@click.option(
    "--create-tables",
    is_flag=True,
    help="First create, empty, the source tables the target lacks (from the type map, with "
    "keys and foreign keys), then match.",
)
def match(project: str, source: str, target: str, sample_rows: int, create_tables: bool) -> None:
    """Suggest which source table and column goes where in the target; save as suggested."""
    from workbench.errors import NotFoundError
    from workbench.matching.mappings import suggest_mappings

    store = state().store()
    if create_tables:
        made = _create_tables(store, project, source, target)
        click.echo(
            f"Created {len(made.created)} empty target tables from the type map"
            + (f"; {len(made.existing)} existed already" if made.existing else "")
            + ".",
            err=True,
        )
    saved = suggest_mappings(store, project, source, target, sample_rows=sample_rows)
    if not saved:
        raise NotFoundError(
            f"No table pairs found between {source!r} and {target!r}: does the target have its "
            f"tables yet? Create them from the source's type map and match with `workbench "
            f"match {project} --source {source} --target {target} --create-tables`, or move "
            f"the source as it is with `workbench copy {source} {target} --project {project}`."
        )

    def human() -> None:
        for m in saved:
            _show(m)
        click.echo(
            f"Review with `workbench mapping show {project} MAPPING`, then accept "
            f"(`workbench mapping accept {project} --all --min-confidence 0.8` for all)."
        )

    emit([m.to_dict() for m in saved], human)


def _create_tables(store: Any, project: str, source: str, target: str) -> Any:
    from workbench.engine.migrate import with_connection_options
    from workbench.engine.options import CopyOptions
    from workbench.engine.schema_only import create_missing_tables
    from workbench.store import connections

    src = connections.get_connection(store, project, source)
    tgt = connections.get_connection(store, project, target)
    options = with_connection_options(CopyOptions(), src)
    return create_missing_tables(
        connections.connection_url(store, src), connections.connection_url(store, tgt), options
    )


@click.group()
def mapping() -> None:
    """Review a project's saved mappings: list, show, accept, reject, override, check."""


@mapping.command("list")
@click.argument("project")
def list_(project: str) -> None:
    """The project's schema mappings with their version and column counts."""
    from workbench.matching.mappings import list_mappings

    found = list_mappings(state().store(), project)
    rows = [
        {
            "id": m.id,
            "mapping": m.label,
            "version": m.version,
            "accepted": len(m.accepted()),
            "suggested": sum(c.state == "suggested" for c in m.columns),
            "rejected": sum(c.state == "rejected" for c in m.columns),
        }
        for m in found
    ]
    emit(
        [m.to_dict() for m in found],
        lambda: table(rows, ["id", "mapping", "version", "accepted", "suggested", "rejected"]),
    )


@mapping.command()
@click.argument("project")
@click.argument("mapping_ref", metavar="MAPPING")
def show(project: str, mapping_ref: str) -> None:
    """One mapping (by id, source table or 'source->target') with its column mappings."""
    from workbench.matching.mappings import get_mapping

    found = get_mapping(state().store(), project, mapping_ref)
    emit(found.to_dict(), lambda: _show(found))


@mapping.command()
@click.argument("project")
@click.argument("mapping_ref", metavar="[MAPPING]", required=False)
@click.argument("columns", nargs=-1)
@click.option(
    "--all", "accept_every", is_flag=True,
    help="Accept every open suggestion (of MAPPING, or of every mapping without one).",
)  # fmt: skip
@click.option("--min-confidence", default=0.0, help="With --all: only from this confidence.")
def accept(
    project: str,
    mapping_ref: str | None,
    columns: tuple[str, ...],
    accept_every: bool,
    min_confidence: float,
) -> None:
    """Accept the suggestions for COLUMNS (source column names), or --all of them."""
    from workbench.matching import decisions
    from workbench.matching.mappings import list_mappings, load_pair

    store = state().store()
    if accept_every and mapping_ref is None:  # every mapping of the project, one call
        results = [
            decisions.accept_all(store, project, m.id, min_confidence=min_confidence)
            for m in list_mappings(store, project)
        ]

        def human() -> None:
            for r in results:
                _show(r)

        emit([r.to_dict() for r in results], human)
        return
    if accept_every:
        assert mapping_ref is not None
        result = decisions.accept_all(store, project, mapping_ref, min_confidence=min_confidence)
        emit(result.to_dict(), lambda: _show(result))
        return
    if not mapping_ref or not columns:
        raise click.UsageError("Name a MAPPING and source columns to accept, or use --all")
    pair = load_pair(store, project, mapping_ref)
    for column in columns:
        result = decisions.accept(store, project, mapping_ref, column, pair=pair)
    emit(result.to_dict(), lambda: _show(result))


@mapping.command()
@click.argument("project")
@click.argument("mapping_ref", metavar="MAPPING")
@click.argument("columns", nargs=-1, required=True)
def reject(project: str, mapping_ref: str, columns: tuple[str, ...]) -> None:
    """Reject the mappings of COLUMNS (source column names)."""
    from workbench.matching import decisions
    from workbench.matching.mappings import load_pair

    store = state().store()
    pair = load_pair(store, project, mapping_ref)
    for column in columns:
        result = decisions.reject(store, project, mapping_ref, column, pair=pair)
    emit(result.to_dict(), lambda: _show(result))


@mapping.command()
@click.argument("project")
@click.argument("mapping_ref", metavar="MAPPING")
@click.argument("source_column")
@click.argument("target_column")
def override(project: str, mapping_ref: str, source_column: str, target_column: str) -> None:
    """Map SOURCE_COLUMN to TARGET_COLUMN instead of the suggestion (a manual mapping)."""
    from workbench.matching import decisions

    result = decisions.override(state().store(), project, mapping_ref, source_column, target_column)
    emit(result.to_dict(), lambda: _show(result))


@mapping.command()
@click.argument("project")
def check(project: str) -> None:
    """Problems of the accepted mappings before a run; exit code 1 when there are errors."""
    from workbench.matching.checks import check_mappings

    problems = check_mappings(state().store(), project)
    emit(
        [p.to_dict() for p in problems],
        lambda: table(
            [p.to_dict() for p in problems],
            ["severity", "code", "column", "message"],
            empty="No problems.",
        ),
    )
    if any(p.severity == "error" for p in problems):
        raise click.exceptions.Exit(1)


commands = [match, mapping]
