"""The Schema browser: tables with row estimates and sizes; columns with source type ->
target type, keys and foreign keys marked. Everything shown comes from the model and the
type map's plans; the widget only lays it out."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from workbench.connectors import connect
from workbench.schema.model import DatabaseSchema, Table
from workbench.schema.types import TableTypePlan, TypeOptions, plan_schema
from workbench.widgets import static


def human_size(n: int | None) -> str:
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def table_label(table: Table) -> str:
    rows = "?" if table.row_estimate is None else f"~{table.row_estimate:,}"
    kind = " (view)" if table.kind == "view" else ""
    return f"{table.qualified_name}{kind} — {rows} rows, {human_size(table.size_bytes)}"


def column_rows(table: Table, plan: TableTypePlan | None) -> list[dict[str, str]]:
    """One dict per column: name, source type, target type, keys, notes."""
    fks = {c: fk for fk in table.foreign_keys for c in fk.columns}
    uniques = {c for u in table.uniques for c in u.columns}
    rows = []
    for col in table.columns:
        marks = []
        if col.name in table.primary_key:
            marks.append("PK")
        if col.name in uniques:
            marks.append("UQ")
        if col.name in fks:
            fk = fks[col.name]
            ref = fk.ref_columns[fk.columns.index(col.name)] if fk.ref_columns else "?"
            marks.append(f"FK → {fk.ref_table}.{ref}")
        if col.is_identity:
            marks.append("identity")
        cp = plan.column(col.name) if plan else None
        rows.append(
            {
                "column": col.name,
                "source type": col.native.raw or col.native.name,
                "target type": cp.pg_type if cp else "(view: not migrated)",
                "null": "" if col.nullable else "NOT NULL",
                "keys": ", ".join(marks),
                "notes": "; ".join(cp.notes) if cp else "",
            }
        )
    return rows


class SchemaBrowser:
    def __init__(self, schema: DatabaseSchema, options: TypeOptions | None = None) -> None:
        self.schema = schema
        self.plans = {(p.table.schema, p.table.name): p for p in plan_schema(schema, options)}
        self.tables = w.Select(
            options=[(table_label(t), i) for i, t in enumerate(schema.tables)],
            rows=min(15, max(3, len(schema.tables))),
            layout=w.Layout(width="45%"),
        )
        self.columns = w.HTML()
        self.selected: Table | None = None
        self.rows: list[dict[str, str]] = []
        self.tables.observe(lambda change: self.on_select(change["new"]), names="value")
        if schema.tables:
            self.on_select(0)

    @classmethod
    def from_url(cls, url: str, options: TypeOptions | None = None) -> SchemaBrowser:

        connector = connect(url)
        try:
            return cls(connector.introspect(), options)
        finally:
            connector.close()

    def on_select(self, index: int | None) -> None:
        if index is None:
            return
        table = self.schema.tables[index]
        self.selected = table
        self.rows = column_rows(table, self.plans.get((table.schema, table.name)))
        head = "".join(f"<th>{html.escape(k)}</th>" for k in self.rows[0]) if self.rows else ""
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r.values()) + "</tr>"
            for r in self.rows
        )
        title = html.escape(table_label(table))
        self.columns.value = f"<b>{title}</b><table><tr>{head}</tr>{body}</table>"

    def view(self) -> w.Widget:
        return w.HBox([self.tables, self.columns])

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return static.mimebundle(self.view(), **kwargs)
