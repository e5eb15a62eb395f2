"""Decisions on a saved mapping: accept, reject, override, transforms.

Each decision changes column_mappings, bumps the schema_mapping's version, records an
audit event and stores what it teaches as matching feedback for the organization, all in
one transaction. Feedback needs the pair's signal features, so both tables are read (a
small sample) unless the caller passes them (``pair=``, as the widget does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbench.errors import InvalidInputError, NotFoundError
from workbench.matching.feedback import FeedbackRecord, record_feedback
from workbench.matching.learning import organization_model, save_feedback
from workbench.matching.mappings import (
    MappingRef,
    SchemaMappingRecord,
    TablePair,
    get_mapping,
    load_pair,
    mapping_record,
    mapping_row,
)
from workbench.schema.sqlexpr import column_expression
from workbench.store.access import require
from workbench.store.audit import record_event
from workbench.store.models import ColumnMapping, Connection, Project, SchemaMapping
from workbench.store.projects import ProjectRef, require_active
from workbench.transforms.rules import ColumnTransform

if TYPE_CHECKING:
    from workbench.store import Store


def _feedback(
    store: Store,
    pair: TablePair,
    action: str,
    source_column: str,
    target_column: str,
    suggested_target: str | None = None,
) -> list[FeedbackRecord]:
    return record_feedback(
        pair.source.frame,
        pair.target.frame,
        action,
        source_column,
        target_column,
        suggested_target=suggested_target,
        source_table=pair.source.name,
        target_table=pair.target.name,
        source_types=pair.source.declared,
        target_types=pair.target.declared,
        model=organization_model(store),
    )


def _rows(session: Session, row: SchemaMapping) -> list[ColumnMapping]:
    return list(
        session.scalars(
            select(ColumnMapping)
            .where(ColumnMapping.schema_mapping_id == row.id)
            .order_by(ColumnMapping.id)
        )
    )


def _find(
    rows: list[ColumnMapping], source_column: str, target_column: str | None, states: tuple
) -> ColumnMapping:
    found = [
        c
        for c in rows
        if c.source_column == source_column
        and c.state in states
        and (target_column is None or c.target_column == target_column)
    ]
    if not found:
        what = f"{source_column} -> {target_column}" if target_column else source_column
        raise NotFoundError(
            f"No {' or '.join(states)} column mapping for {what}; see the mapping with "
            "`workbench mapping show`",
            column=source_column,
        )
    return found[0]


def _check_target_free(rows: list[ColumnMapping], keep: ColumnMapping | None, target: str) -> None:
    for c in rows:
        if c is not keep and c.state == "accepted" and c.target_column == target:
            raise InvalidInputError(
                f"Target column {target!r} already takes {c.source_column or '(computed)'}; "
                "reject that mapping first",
                column=target,
            )


def _finish(
    session: Session,
    store: Store,
    row: SchemaMapping,
    action: str,
    records: list[FeedbackRecord],
    **details: Any,
) -> SchemaMappingRecord:
    row.version += 1
    session.flush()
    if records:
        save_feedback(session, store, records, project_id=row.project_id)
    record_event(
        session,
        store,
        f"mapping.{action}",
        object_type="schema_mapping",
        object_id=row.id,
        object_name=f"{row.source_table} -> {row.target_table}",
        project_id=row.project_id,
        version=row.version,
        **details,
    )
    return mapping_record(session, row)


def _open(session: Session, store: Store, project: ProjectRef, mapping: MappingRef):
    row = mapping_row(session, store, project, mapping)

    project_obj = session.get(Project, row.project_id)
    assert project_obj is not None  # mapping_row just found the mapping in this project
    require_active(project_obj)
    return row


def accept(
    store: Store,
    project: ProjectRef,
    mapping: MappingRef,
    source_column: str,
    target_column: str | None = None,
    *,
    pair: TablePair | None = None,
) -> SchemaMappingRecord:
    """Accept the suggestion for ``source_column`` (optionally naming its target)."""
    require(store, "edit")
    pair = pair or load_pair(store, project, mapping)
    with store.session() as session:
        row = _open(session, store, project, mapping)
        records, target = _accept_in(store, pair, _rows(session, row), source_column, target_column)
        return _finish(session, store, row, "accept", records, source=source_column, target=target)


def _accept_in(
    store: Store,
    pair: TablePair,
    rows: list[ColumnMapping],
    source_column: str,
    target_column: str | None,
) -> tuple[list[FeedbackRecord], str]:
    c = _find(rows, source_column, target_column, ("suggested", "rejected"))
    _check_target_free(rows, c, c.target_column)
    c.state = "accepted"
    return _feedback(store, pair, "accept", source_column, c.target_column), c.target_column


def reject(
    store: Store,
    project: ProjectRef,
    mapping: MappingRef,
    source_column: str,
    target_column: str | None = None,
    *,
    pair: TablePair | None = None,
) -> SchemaMappingRecord:
    """Reject the (suggested or accepted) mapping of ``source_column``."""
    require(store, "edit")
    pair = pair or load_pair(store, project, mapping)
    with store.session() as session:
        row = _open(session, store, project, mapping)
        records, target = _reject_in(store, pair, _rows(session, row), source_column, target_column)
        return _finish(session, store, row, "reject", records, source=source_column, target=target)


def _reject_in(
    store: Store,
    pair: TablePair,
    rows: list[ColumnMapping],
    source_column: str,
    target_column: str | None,
) -> tuple[list[FeedbackRecord], str]:
    c = _find(rows, source_column, target_column, ("suggested", "accepted"))
    c.state = "rejected"
    return _feedback(store, pair, "reject", source_column, c.target_column), c.target_column


def override(
    store: Store,
    project: ProjectRef,
    mapping: MappingRef,
    source_column: str,
    target_column: str,
    *,
    transform: dict[str, Any] | None = None,
    pair: TablePair | None = None,
) -> SchemaMappingRecord:
    """Map ``source_column`` to ``target_column`` instead of what was suggested (manual).

    The earlier suggestion, if any, becomes rejected; the feedback is a correction.
    """
    require(store, "edit")
    pair = pair or load_pair(store, project, mapping)
    _check_override(pair, source_column, target_column, transform)
    with store.session() as session:
        row = _open(session, store, project, mapping)
        records, was = _override_in(
            session, store, pair, row, source_column, target_column, transform
        )
        return _finish(
            session, store, row, "override", records,
            source=source_column, target=target_column, was=was,
        )  # fmt: skip


def _check_override(
    pair: TablePair, source_column: str, target_column: str, transform: dict[str, Any] | None
) -> None:
    if target_column not in pair.target.table.column_names:
        raise InvalidInputError(
            f"Target table {pair.target.name} has no column {target_column!r}; "
            f"columns are {list(pair.target.table.column_names)}",
            column=target_column,
        )
    if transform:
        ColumnTransform.from_rule(target_column, source_column, transform)


def _override_in(
    session: Session,
    store: Store,
    pair: TablePair,
    row: SchemaMapping,
    source_column: str,
    target_column: str,
    transform: dict[str, Any] | None,
) -> tuple[list[FeedbackRecord], str | None]:
    rows = _rows(session, row)
    earlier = [c for c in rows if c.source_column == source_column and c.state != "rejected"]
    _check_target_free(rows, None, target_column)
    for c in earlier:
        c.state = "rejected"
    session.add(
        ColumnMapping(
            schema_mapping_id=row.id,
            source_column=source_column,
            target_column=target_column,
            transform=transform,
            confidence=None,
            origin="manual",
            state="accepted",
        )
    )
    session.flush()
    was = earlier[0].target_column if earlier else None
    if was and was != target_column:
        return _feedback(store, pair, "correct", source_column, target_column, was), was
    return _feedback(store, pair, "accept", source_column, target_column), was


@dataclass(frozen=True)
class Decision:
    """One reviewer's choice for a source column: accept, reject or override (to ``target``)."""

    action: str  # "accept" | "reject" | "override"
    source_column: str
    target_column: str | None = None


def decide(
    store: Store,
    project: ProjectRef,
    mapping: MappingRef,
    choices: list[Decision],
    *,
    pair: TablePair | None = None,
) -> SchemaMappingRecord:
    """Apply a review's choices in one transaction: one version, one audit event (a widget's
    Save); all or none of them, the first that cannot be applied named."""
    require(store, "edit")
    if not choices:
        return get_mapping(store, project, mapping)
    pair = pair or load_pair(store, project, mapping)
    for choice in choices:
        if choice.action not in ("accept", "reject", "override"):
            raise InvalidInputError(f"Unknown decision {choice.action!r}: accept, reject, override")
        if choice.action == "override":
            assert choice.target_column is not None, "an override names its target"
            _check_override(pair, choice.source_column, choice.target_column, None)
    with store.session() as session:
        row = _open(session, store, project, mapping)
        records: list[FeedbackRecord] = []
        for choice in choices:
            if choice.action == "override":
                assert choice.target_column is not None
                got, _ = _override_in(
                    session, store, pair, row, choice.source_column, choice.target_column, None
                )
            else:
                step = _accept_in if choice.action == "accept" else _reject_in
                got, _ = step(
                    store, pair, _rows(session, row), choice.source_column, choice.target_column
                )
            records += got
        changes = [
            f"{c.action} {c.source_column}" + (f" -> {c.target_column}" if c.target_column else "")
            for c in choices
        ]
        return _finish(session, store, row, "review", records, changes=changes)


def set_transform(
    store: Store,
    project: ProjectRef,
    mapping: MappingRef,
    target_column: str,
    transform: dict[str, Any] | None,
    *,
    computed: bool = False,
) -> SchemaMappingRecord:
    """Set (or clear) the transform rule of the accepted mapping into ``target_column``.

    With ``computed`` a new accepted column_mapping without a source column is added: the
    transform (an expression or a default) produces the target column.
    """
    require(store, "edit")
    if transform:
        ColumnTransform.from_rule(target_column, None, transform)
    with store.session() as session:
        row = _open(session, store, project, mapping)
        if transform and transform.get("expression"):
            _check_expression(session, row, target_column, transform["expression"])
        rows = _rows(session, row)
        if computed:
            _check_target_free(rows, None, target_column)
            session.add(
                ColumnMapping(
                    schema_mapping_id=row.id,
                    source_column=None,
                    target_column=target_column,
                    transform=transform,
                    origin="manual",
                    state="accepted",
                )
            )
        else:
            found = [c for c in rows if c.target_column == target_column and c.state == "accepted"]
            if not found:
                raise NotFoundError(
                    f"No accepted mapping into {target_column!r}; accept or override one first",
                    column=target_column,
                )
            found[0].transform = transform or None
        return _finish(
            session, store, row, "transform", [], target=target_column, transform=transform
        )


def _check_expression(session: Any, row: Any, target: str, expression: str) -> None:
    """Refuse, before it is stored, an expression that is not one value of the row in the
    source's dialect (its columns are checked again where the job meets the table)."""

    source = session.get(Connection, row.source_connection_id)
    what = f"Transform expression of {target!r}"
    column_expression(expression, source.kind, None, what=what)


def accept_all(
    store: Store,
    project: ProjectRef,
    mapping: MappingRef,
    *,
    min_confidence: float = 0.0,
    pair: TablePair | None = None,
) -> SchemaMappingRecord:
    """Accept every open suggestion at or above ``min_confidence`` (one version bump)."""
    require(store, "edit")
    current = get_mapping(store, project, mapping)
    chosen = [
        c
        for c in current.columns
        if c.state == "suggested" and c.source_column and (c.confidence or 0) >= min_confidence
    ]
    if not chosen:
        return current
    pair = pair or load_pair(store, project, mapping)
    with store.session() as session:
        row = _open(session, store, project, mapping)
        rows = _rows(session, row)
        records: list[FeedbackRecord] = []
        by_id = {c.id: c for c in rows}
        for rec in chosen:
            c = by_id[rec.id]
            _check_target_free(rows, c, c.target_column)
            c.state = "accepted"
            records += _feedback(store, pair, "accept", str(c.source_column), c.target_column)
        return _finish(
            session,
            store,
            row,
            "accept",
            records,
            columns=[f"{c.source_column} -> {c.target_column}" for c in chosen],
        )
