"""SQLite introspection: one query per kind of object over all tables at once, joining
``sqlite_schema`` with the ``pragma_*`` table-valued functions."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from workbench.connectors.sqltext import quote_ident
from workbench.schema.model import (
    Column,
    DatabaseSchema,
    ForeignKey,
    Index,
    NativeType,
    SchemaObject,
    Table,
    UniqueConstraint,
)
from workbench.schema.types.sqlite import affinity

if TYPE_CHECKING:
    from workbench.connectors.sqlite import SQLiteConnector

Row = tuple[Any, ...]

_PARAMS = re.compile(r"^\s*([^(]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$")

RELATIONS = (
    "SELECT name, type, sql FROM sqlite_schema WHERE type IN ('table', 'view') "
    "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
)
# the per-table queries: {in_rels} restricts m.name to the chosen tables (_in_relations)
COLUMNS = (
    'SELECT m.name, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk, p.hidden '
    "FROM sqlite_schema m JOIN pragma_table_xinfo(m.name) p WHERE {in_rels} "
    "ORDER BY m.name, p.cid"
)
FOREIGN_KEYS = (
    'SELECT m.name, f.id, f.seq, f."table", f."from", f."to", f.on_update, '
    "f.on_delete FROM sqlite_schema m JOIN pragma_foreign_key_list(m.name) f "
    "WHERE {in_rels} ORDER BY m.name, f.id, f.seq"
)
INDEXES = (
    'SELECT m.name, il.name, il."unique", il.origin, il.partial, ii.seqno, ii.name '
    "FROM sqlite_schema m JOIN pragma_index_list(m.name) il "
    "JOIN pragma_index_info(il.name) ii "
    "WHERE {in_rels} ORDER BY m.name, il.name, ii.seqno"
)
HAS_SEQUENCES = "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'"
SEQUENCES = "SELECT name, seq FROM sqlite_sequence"
TRIGGERS = "SELECT name, tbl_name FROM sqlite_schema WHERE type = 'trigger' ORDER BY name"


def native_type(declared: str) -> NativeType:
    m = _PARAMS.match(declared or "")
    name = (m.group(1) if m else declared).strip().lower()
    first = int(m.group(2)) if m and m.group(2) else None
    second = int(m.group(3)) if m and m.group(3) else None
    is_numeric = affinity(declared or "") in ("NUMERIC", "REAL") or name in ("decimal", "numeric")
    return NativeType(
        name=name,
        length=None if is_numeric else first,
        precision=first if is_numeric else None,
        scale=second if is_numeric else None,
        raw=declared or "",
    )


def introspect(
    connector: SQLiteConnector,
    schemas: Sequence[str] | None = None,
    tables: Sequence[str] | None = None,
) -> DatabaseSchema:
    run = connector.run
    rels = run(RELATIONS)
    if tables:
        rels = [r for r in rels if r[0] in tables]
    names = [r[0] for r in rels]
    in_rels = _in_relations(names)
    cols = _rows_by_table(names, run(COLUMNS.format(in_rels=in_rels), names))
    fks = _parts_by_table(names, run(FOREIGN_KEYS.format(in_rels=in_rels), names))
    idx = _parts_by_table(names, run(INDEXES.format(in_rels=in_rels), names))
    # the exact count: SQLite keeps no row estimate
    counts = {name: run(_count_sql(name))[0][0] for name, kind, _ in rels if kind == "table"}
    sequences: dict[str, int] = {}
    if run(HAS_SEQUENCES):
        # AUTOINCREMENT tables: the next rowid is past the largest ever given out
        sequences = {n: int(v) + 1 for n, v in run(SEQUENCES)}

    out = [
        _table(rel, cols[rel[0]], fks[rel[0]], idx[rel[0]], counts.get(rel[0]), sequences)
        for rel in rels
    ]
    by_name = {t.name: t for t in out}
    out = [_resolve_fk_targets(t, by_name) for t in out]
    triggers = tuple(
        SchemaObject("trigger", None, trigger, table)
        for trigger, table in run(TRIGGERS)
        if not tables or table in tables
    )
    return DatabaseSchema("sqlite", f"SQLite {sqlite3.sqlite_version}", tuple(out), others=triggers)


def _in_relations(names: Sequence[str]) -> str:
    marks = ", ".join("?" * len(names)) or "NULL"
    return f"m.name IN ({marks})"


def _count_sql(table: str) -> str:
    return f"SELECT COUNT(*) FROM {quote_ident(table, 'sqlite')}"


def _rows_by_table(names: Sequence[str], rows: Sequence[Row]) -> dict[str, list[Row]]:
    """Rows grouped by their first field, the table name (dropped), in query order."""
    out: dict[str, list[Row]] = {n: [] for n in names}
    for row in rows:
        out[row[0]].append(row[1:])
    return out


def _parts_by_table(names: Sequence[str], rows: Sequence[Row]) -> dict[str, dict[Any, list[Row]]]:
    """Rows grouped by table name, then by key or index (the first two fields, dropped)."""
    out: dict[str, dict[Any, list[Row]]] = {n: {} for n in names}
    for row in rows:
        out[row[0]].setdefault(row[1], []).append(row[2:])
    return out


def _primary_key(cols: Sequence[Row]) -> tuple[str, ...]:
    """The primary key's columns in key order (pragma pk: position in the key, 0 if none)."""
    return tuple(name for _, name in sorted((c[5], c[1]) for c in cols if c[5]))


def _column(row: Row, rowid_alias: bool) -> Column:
    cid, name, ctype, notnull, default, pkpos, hidden = row
    native = native_type(ctype)
    # INTEGER PRIMARY KEY is the rowid: auto-assigned
    is_identity = rowid_alias and native.raw.strip().upper() == "INTEGER"
    return Column(
        name=name,
        native=native,
        nullable=not notnull and not pkpos,
        default=default,
        is_identity=is_identity,
        generated="(see table definition)" if hidden in (2, 3) else None,
        generated_stored=hidden == 3,
        ordinal=cid + 1,
    )


def _columns(cols: Sequence[Row], primary_key: tuple[str, ...]) -> tuple[Column, ...]:
    alias = primary_key[0] if len(primary_key) == 1 else None
    return tuple(_column(c, c[1] == alias) for c in cols)


def _keys(parts_by_index: dict[str, list[Row]]) -> tuple[list[UniqueConstraint], list[Index]]:
    """A table's UNIQUE constraints and its indexes (the primary key's own index excluded)."""
    uniques, indexes = [], []
    for name, parts in parts_by_index.items():
        unique, origin, partial = parts[0][0], parts[0][1], parts[0][2]
        columns = tuple(p[4] for p in parts)
        if origin == "pk":
            continue
        if origin == "u":
            uniques.append(UniqueConstraint(name, columns))
        else:
            where = "(partial)" if partial else None
            indexes.append(Index(name, columns, bool(unique), where=where))
    return uniques, indexes


def _foreign_key(parts: Sequence[Row]) -> ForeignKey:
    _, ref, _, _, upd, dele = parts[0]
    columns = tuple(p[2] for p in parts)
    ref_columns = tuple(p[3] for p in parts)
    if not all(ref_columns):  # none named: the parent's primary key (_resolve_fk_targets)
        ref_columns = ()
    return ForeignKey(None, columns, None, ref, ref_columns, dele, upd)


def _table(
    rel: Row,
    cols: Sequence[Row],
    fks: dict[int, list[Row]],
    idx: dict[str, list[Row]],
    row_count: int | None,
    sequences: dict[str, int],
) -> Table:
    name, kind, ddl = rel
    primary_key = _primary_key(cols)
    uniques, indexes = _keys(idx)
    return Table(
        schema=None,
        name=name,
        columns=_columns(cols, primary_key),
        kind="view" if kind == "view" else "table",
        primary_key=primary_key,
        uniques=tuple(uniques),
        foreign_keys=tuple(_foreign_key(parts) for parts in fks.values()),
        indexes=tuple(indexes),
        row_estimate=row_count,
        view_definition=ddl if kind == "view" else None,
        identity_next=sequences.get(name),
    )


def _resolve_fk_targets(table: Table, by_name: dict[str, Table]) -> Table:
    """SQLite FKs may omit the referenced columns: they then mean the parent's primary key."""
    fixed = []
    for fk in table.foreign_keys:
        if not fk.ref_columns and fk.ref_table in by_name:
            fk = replace(fk, ref_columns=by_name[fk.ref_table].primary_key)
        fixed.append(fk)
    return replace(table, foreign_keys=tuple(fixed))
