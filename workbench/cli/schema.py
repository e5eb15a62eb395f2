"""``workbench schema show|ddl PROJECT CONNECTION``: what a connection holds, and the
PostgreSQL DDL it becomes (both from the schema part: introspection, type map, DDL)."""

from __future__ import annotations

from typing import Any

import click

from workbench.cli import state
from workbench.cli.output import emit, table
from workbench.schema.model import DatabaseSchema


def _introspect(project: str, name: str) -> tuple[DatabaseSchema, dict[str, Any]]:
    from workbench.connectors import connect
    from workbench.store import connections

    store = state().store()
    record = connections.get_connection(store, project, name)
    connector = connect(
        connections.connection_url(store, record),
        connect_timeout=store.settings.connect_timeout,
        options=record.options,
    )
    try:
        return connector.introspect(), dict(record.options or {})
    finally:
        connector.close()


def _type_options(options: dict[str, Any], naming: str | None) -> Any:
    """The connection's stored type options, read as the jobs read them (see
    ``store.connections.type_options``): the preview is the DDL a job runs."""
    from workbench.schema.types import TypeOptions
    from workbench.store.connections import type_options

    values = type_options(options)
    if naming:
        values["naming"] = naming
    return TypeOptions.from_dict(values)


@click.group()
def schema() -> None:
    """Show a connection's tables and types, and the PostgreSQL DDL they become."""


@schema.command()
@click.argument("project")
@click.argument("connection")
@click.option("--tables-only", is_flag=True, help="Only the table list, not each column.")
def show(project: str, connection: str, tables_only: bool) -> None:
    """Tables, row estimates, sizes, keys, and each column's source -> PostgreSQL type."""
    from workbench.schema.types import plan_schema

    source, options = _introspect(project, connection)
    plans = {
        (p.table.schema, p.table.name): p for p in plan_schema(source, _type_options(options, None))
    }
    tables: list[dict[str, Any]] = []
    for t in source.tables:
        plan = plans.get((t.schema, t.name))
        tables.append(
            {
                "schema": t.schema,
                "name": t.name,
                "kind": t.kind,
                "row_estimate": t.row_estimate,
                "size_bytes": t.size_bytes,
                "primary_key": list(t.primary_key),
                "foreign_keys": [
                    {
                        "columns": list(f.columns),
                        "ref_table": f.ref_table,
                        "ref_columns": list(f.ref_columns),
                        "on_delete": f.on_delete,
                        "on_update": f.on_update,
                    }
                    for f in t.foreign_keys
                ],
                "columns": [
                    {
                        "name": c.name,
                        "source_type": c.native.raw or c.native.name,
                        "target_type": plan.column(c.name).pg_type if plan else None,
                        "nullable": c.nullable,
                        "default": c.default,
                        "identity": c.is_identity,
                    }
                    for c in t.columns
                ],
            }
        )
    data = {"dialect": source.dialect, "server_version": source.server_version, "tables": tables}

    def human() -> None:
        click.echo(f"{source.server_version}: {len(tables)} tables and views")
        rows = [
            {
                "table": (f"{t['schema']}." if t["schema"] else "") + t["name"],
                "kind": t["kind"],
                "rows": t["row_estimate"],
                "bytes": t["size_bytes"],
                "key": ", ".join(t["primary_key"]),
                "fks": len(t["foreign_keys"]),
            }
            for t in tables
        ]
        table(rows, ["table", "kind", "rows", "bytes", "key", "fks"])
        if tables_only:
            return
        for t, row in zip(tables, rows, strict=True):
            click.echo(f"\n{row['table']}")
            table(
                [
                    {
                        "column": c["name"],
                        "source type": c["source_type"],
                        "postgresql type": c["target_type"] or "—",
                        "null": "" if c["nullable"] else "NOT NULL",
                        "key": "PK" if c["name"] in t["primary_key"] else "",
                    }
                    for c in t["columns"]
                ],
                ["column", "source type", "postgresql type", "null", "key"],
            )

    emit(data, human)


@schema.command()
@click.argument("project")
@click.argument("connection")
@click.option("--target-schema", help="Create the tables in this PostgreSQL schema.")
@click.option(
    "--naming", type=click.Choice(["keep", "snake"]), help="Keep names or snake_case them."
)
def ddl(project: str, connection: str, target_schema: str | None, naming: str | None) -> None:
    """The target DDL: tables before the load, then keys, indexes, FKs, checks, sequences."""
    from workbench.schema.ddl import target_ddl
    from workbench.schema.types import plan_schema

    source, options = _introspect(project, connection)
    type_options = _type_options(options, naming)
    script = target_ddl(plan_schema(source, type_options, target_schema), source, type_options)
    emit(
        {"create": script.create, "post_load": script.post_load, "notes": script.notes},
        lambda: click.echo(script.text(), nl=False),
    )


commands = [schema]
