"""Saved mappings of a project: suggest between two connections, save, list and get.

A suggestion run reads both connections (tables and a sample of rows), matches tables then
columns (:func:`workbench.matching.match_tables`) with the organization's model
(:func:`workbench.matching.learning.organization_model`), and saves each table pair as a
schema_mapping with one column_mapping per suggested pair (state ``suggested``, origin
``fuzzy`` or ``learned`` by the model, its confidence). Each suggestion's reasons are kept
in the schema_mapping's ``rules`` (``{"reasons": {source column: {signal: share}}}``).

Suggesting again keeps every decision (accepted, rejected, manual rows), replaces the
open suggestions, and bumps the version when they changed; decisions live in
:mod:`workbench.matching.decisions`. The engine runs the accepted rows
(``workbench migrate``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, overload

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbench import render
from workbench.connectors import connect
from workbench.errors import InvalidInputError, NotFoundError
from workbench.matching import TableMatch, match_tables
from workbench.matching.learning import organization_model, origin_of
from workbench.matching.reading import SAMPLE_ROWS, TableSample, read_tables, sample_table
from workbench.store import connections
from workbench.store.access import require
from workbench.store.audit import record_event
from workbench.store.models import ColumnMapping, Connection, SchemaMapping
from workbench.store.projects import ProjectRef, project_row, require_active

if TYPE_CHECKING:
    from workbench.schema.model import DatabaseSchema
    from workbench.store import Store

MappingRef = str | int  # a schema_mapping's id, its source table, or "source->target"


@dataclass(frozen=True)
class ColumnMappingRecord:
    id: int
    source_column: str | None
    target_column: str
    transform: dict[str, Any] | None
    confidence: float | None
    origin: str
    state: str
    reasons: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SchemaMappingRecord:
    id: int
    project_id: int
    source_connection: str
    target_connection: str
    source_schema: str | None
    source_table: str
    target_schema: str | None
    target_table: str
    version: int
    confidence: float | None
    columns: list[ColumnMappingRecord]
    created_by: str
    updated_at: datetime

    @property
    def label(self) -> str:
        return f"{self.source_table} -> {self.target_table}"

    def accepted(self) -> list[ColumnMappingRecord]:
        return [c for c in self.columns if c.state == "accepted"]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["updated_at"] = self.updated_at.isoformat()
        return data

    def _repr_html_(self) -> str:  # a notebook cell shows the pairs and their decisions
        return render.mappings_html([self.to_dict()])

    def __str__(self) -> str:
        return render.mappings_text([self.to_dict()])


@dataclass(frozen=True)
class TablePair:
    """Both sides of one schema_mapping as read from the connections (for feedback)."""

    source: TableSample
    target: TableSample


# --- suggest and save -----------------------------------------------------------------------


def read_connection(
    store: Store, project: ProjectRef, connection: str | int, rows: int = SAMPLE_ROWS
) -> tuple[DatabaseSchema, dict[str, TableSample]]:
    record = connections.get_connection(store, project, connection)
    return read_tables(
        connections.connection_url(store, record),
        rows=rows,
        options=record.options,
        connect_timeout=store.settings.connect_timeout,
    )


@overload
def suggest_mappings(
    store: Store,
    project: ProjectRef,
    source: str | int,
    target: str | int,
    *,
    sample_rows: int = SAMPLE_ROWS,
    save: Literal[True] = True,
) -> list[SchemaMappingRecord]: ...
@overload
def suggest_mappings(
    store: Store,
    project: ProjectRef,
    source: str | int,
    target: str | int,
    *,
    sample_rows: int = SAMPLE_ROWS,
    save: bool,
) -> list[SchemaMappingRecord] | list[TableMatch]: ...
def suggest_mappings(
    store: Store,
    project: ProjectRef,
    source: str | int,
    target: str | int,
    *,
    sample_rows: int = SAMPLE_ROWS,
    save: bool = True,
) -> list[SchemaMappingRecord] | list[TableMatch]:
    """Suggest table and column pairs from ``source`` to ``target`` and save them.

    Returns the saved schema_mappings (or, with ``save=False``, the raw table matches).
    """
    require(store, "read")
    _, sources = read_connection(store, project, source, sample_rows)
    _, targets = read_connection(store, project, target, sample_rows)
    model = organization_model(store)
    matches = match_tables(
        {k: s.frame for k, s in sources.items()},
        {k: t.frame for k, t in targets.items()},
        source_types={k: s.declared for k, s in sources.items()},
        target_types={k: t.declared for k, t in targets.items()},
        model=model,
    )
    if not save:
        return matches
    return save_suggestions(
        store, project, source, target, matches, sources, targets, origin=origin_of(model)
    )


def save_suggestions(
    store: Store,
    project: ProjectRef,
    source: str | int,
    target: str | int,
    matches: Sequence[TableMatch],
    sources: dict[str, TableSample],
    targets: dict[str, TableSample],
    *,
    origin: str = "fuzzy",
) -> list[SchemaMappingRecord]:
    """Save table matches as schema_mappings with suggested column_mappings (one transaction)."""
    require(store, "edit")
    saved_ids = []
    with store.session() as session:
        project_obj = project_row(session, store, project)
        require_active(project_obj)
        src = connections.get_connection(store, project_obj.id, source)
        tgt = connections.get_connection(store, project_obj.id, target)
        for match in matches:
            s_table = sources[match.source_table].table
            t_table = targets[match.target_table].table
            row = session.scalars(
                select(SchemaMapping).where(
                    SchemaMapping.project_id == project_obj.id,
                    SchemaMapping.source_connection_id == src.id,
                    SchemaMapping.target_connection_id == tgt.id,
                    func.coalesce(SchemaMapping.source_schema, "") == (s_table.schema or ""),
                    SchemaMapping.source_table == s_table.name,
                    func.coalesce(SchemaMapping.target_schema, "") == (t_table.schema or ""),
                    SchemaMapping.target_table == t_table.name,
                )
            ).one_or_none()
            is_new = row is None
            if row is None:
                row = SchemaMapping(
                    project_id=project_obj.id,
                    source_connection_id=src.id,
                    target_connection_id=tgt.id,
                    source_schema=s_table.schema,
                    source_table=s_table.name,
                    target_schema=t_table.schema,
                    target_table=t_table.name,
                    rules={},
                    version=1,
                    created_by=store.user,
                )
                session.add(row)
                session.flush()
            changed = _replace_suggestions(session, row, match, origin)
            if changed and not is_new:
                row.version += 1
            session.flush()
            record_event(
                session,
                store,
                "mapping.suggest",
                object_type="schema_mapping",
                object_id=row.id,
                object_name=f"{row.source_table} -> {row.target_table}",
                project_id=project_obj.id,
                version=row.version,
                suggestions=len(match.columns),
                origin=origin,
            )
            saved_ids.append(row.id)
    return [get_mapping(store, project, i) for i in saved_ids]


def _replace_suggestions(
    session: Session, row: SchemaMapping, match: TableMatch, origin: str
) -> bool:
    """Swap the open suggestions for ``match``'s; decided rows stay. True if anything changed."""
    existing = session.scalars(
        select(ColumnMapping).where(ColumnMapping.schema_mapping_id == row.id)
    ).all()
    open_rows = [c for c in existing if c.state == "suggested" and c.origin != "manual"]
    decided = [c for c in existing if c not in open_rows]
    taken_sources = {c.source_column for c in decided if c.state == "accepted"}
    taken_targets = {c.target_column for c in decided if c.state != "rejected"}
    refused = {(c.source_column, c.target_column) for c in decided if c.state == "rejected"}
    wanted = [
        s
        for s in match.columns
        if s.source_column not in taken_sources
        and s.target_column not in taken_targets
        and (s.source_column, s.target_column) not in refused
    ]
    before = {(c.source_column, c.target_column, c.confidence) for c in open_rows}
    after = {(s.source_column, s.target_column, s.confidence) for s in wanted}
    reasons = dict((row.rules or {}).get("reasons", {}))
    for s in wanted:
        reasons[s.source_column] = dict(s.reasons)
    row.rules = {**(row.rules or {}), "reasons": reasons, "table_confidence": match.confidence}
    if before == after:
        return False
    for c in open_rows:
        session.delete(c)
    session.flush()
    session.add_all(
        ColumnMapping(
            schema_mapping_id=row.id,
            source_column=s.source_column,
            target_column=s.target_column,
            confidence=s.confidence,
            origin=origin,
            state="suggested",
        )
        for s in wanted
    )
    return True


# --- list and get ------------------------------------------------------------------------------


def list_mappings(store: Store, project: ProjectRef) -> list[SchemaMappingRecord]:
    require(store, "read")
    with store.session() as session:
        project_obj = project_row(session, store, project)
        rows = session.scalars(
            select(SchemaMapping)
            .where(SchemaMapping.project_id == project_obj.id)
            .order_by(SchemaMapping.source_table, SchemaMapping.id)
        ).all()
        return [mapping_record(session, r) for r in rows]


def get_mapping(store: Store, project: ProjectRef, mapping: MappingRef) -> SchemaMappingRecord:
    require(store, "read")
    with store.session() as session:
        return mapping_record(session, mapping_row(session, store, project, mapping))


def mapping_row(
    session: Session, store: Store, project: ProjectRef, mapping: MappingRef
) -> SchemaMapping:
    """A schema_mapping of the project by id, source table, or ``"source->target"``."""
    project_obj = project_row(session, store, project)
    query = select(SchemaMapping).where(SchemaMapping.project_id == project_obj.id)
    if isinstance(mapping, int) and not isinstance(mapping, bool):
        query = query.where(SchemaMapping.id == mapping)
    elif isinstance(mapping, str) and mapping.strip().isdigit():
        query = query.where(SchemaMapping.id == int(mapping))
    elif isinstance(mapping, str) and "->" in mapping:
        src, tgt = (p.strip() for p in mapping.split("->", 1))
        query = query.where(SchemaMapping.source_table == src, SchemaMapping.target_table == tgt)
    elif isinstance(mapping, str):
        query = query.where(SchemaMapping.source_table == mapping.strip())
    else:
        raise InvalidInputError(f"A mapping is named by its id or source table, got {mapping!r}")
    rows = session.scalars(query).all()
    if len(rows) > 1:
        raise InvalidInputError(
            f"{mapping!r} names {len(rows)} mappings in project {project_obj.name!r}; "
            "name it as 'source->target' or by id (`workbench mapping list`)",
            mapping=mapping,
        )
    if not rows:
        raise NotFoundError(
            f"No mapping {mapping!r} in project {project_obj.name!r}; list them with "
            f"`workbench mapping list {project_obj.name}` or create them with `workbench match`",
            mapping=mapping,
        )
    return rows[0]


def mapping_record(session: Session, row: SchemaMapping) -> SchemaMappingRecord:
    names = dict(
        session.execute(
            select(Connection.id, Connection.name).where(
                Connection.id.in_([row.source_connection_id, row.target_connection_id])
            )
        ).all()
    )
    columns = session.scalars(
        select(ColumnMapping)
        .where(ColumnMapping.schema_mapping_id == row.id)
        .order_by(ColumnMapping.id)
    ).all()
    reasons = (row.rules or {}).get("reasons", {})
    return SchemaMappingRecord(
        id=row.id,
        project_id=row.project_id,
        source_connection=names.get(row.source_connection_id, "?"),
        target_connection=names.get(row.target_connection_id, "?"),
        source_schema=row.source_schema,
        source_table=row.source_table,
        target_schema=row.target_schema,
        target_table=row.target_table,
        version=row.version,
        confidence=(row.rules or {}).get("table_confidence"),
        columns=[
            ColumnMappingRecord(
                id=c.id,
                source_column=c.source_column,
                target_column=c.target_column,
                transform=c.transform,
                confidence=c.confidence,
                origin=c.origin,
                state=c.state,
                reasons=dict(reasons.get(c.source_column, {})) if c.origin != "manual" else {},
            )
            for c in columns
        ],
        created_by=row.created_by,
        updated_at=row.updated_at,
    )


def load_pair(
    store: Store, project: ProjectRef, mapping: MappingRef, rows: int = SAMPLE_ROWS
) -> TablePair:
    """Read both tables of a schema_mapping (schema and a sample of rows)."""
    require(store, "read")

    with store.session() as session:
        row = mapping_row(session, store, project, mapping)
        ends = [
            (row.source_connection_id, row.source_schema, row.source_table),
            (row.target_connection_id, row.target_schema, row.target_table),
        ]
    samples = []
    for connection_id, schema, table in ends:
        record = connections.get_connection(store, None, connection_id)
        connector = connect(
            connections.connection_url(store, record),
            connect_timeout=store.settings.connect_timeout,
            options=record.options,
        )
        try:
            model = connector.introspect(tables=[table])
            samples.append(sample_table(connector, model.table(table, schema), rows))
        finally:
            connector.close()
    return TablePair(source=samples[0], target=samples[1])
