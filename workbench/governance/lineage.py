"""Column lineage of a job: source table.column -> transform (with the mapping version) ->
target table.column, one stored row per target column.

Derived from the job's own plan (:func:`workbench.engine.repair.replan`: the same columns,
expressions and transform rules the copy tasks ran), so it says what the job did, not what
a mapping says now. :func:`record_lineage` replaces the job's rows; :func:`lineage` reads a
project's rows, newest job first, optionally for one column (``schema.table.column``,
matched on either side).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, or_, select

from workbench.errors import InvalidInputError
from workbench.store import jobs
from workbench.store.access import require
from workbench.store.audit import record_event
from workbench.store.governance_models import ColumnLineage
from workbench.store.projects import ProjectRef, get_project

if TYPE_CHECKING:
    from workbench.store import Store


@dataclass(frozen=True)
class LineageRecord:
    job_id: int
    source_schema: str | None
    source_table: str
    source_column: str | None  # None: a computed target column (an expression or a default)
    expression: str | None
    transform: dict[str, Any] | None
    mapping_version: int | None
    target_schema: str
    target_table: str
    target_column: str
    created_at: datetime | None = None

    @property
    def source(self) -> str:
        table = ".".join(p for p in (self.source_schema, self.source_table) if p)
        return f"{table}.{self.source_column or '(computed)'}"

    @property
    def target(self) -> str:
        return f"{self.target_schema}.{self.target_table}.{self.target_column}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "source": self.source, "target": self.target}


def save_lineage(
    store: Store, job_id: int, records: list[LineageRecord], *, automatic: bool = False
) -> list[LineageRecord]:
    """Store ``records`` as the job's lineage, replacing earlier rows in one transaction (a
    resume, repair or second recording never duplicates); an audit event ``lineage.record``."""
    require(store, "edit", f"record the lineage of job {job_id}")
    job = jobs.get_job(store, job_id)
    with store.session() as session:
        session.execute(delete(ColumnLineage).where(ColumnLineage.job_id == job_id))
        fields = [f for f in LineageRecord.__dataclass_fields__ if f != "created_at"]
        session.add_all(
            ColumnLineage(
                organization_id=store.identity.organization_id,
                project_id=job.project_id,
                **{f: getattr(r, f) for f in fields},
            )
            for r in records
        )
        record_event(
            session,
            store,
            "lineage.record",
            object_type="migration_job",
            object_id=job_id,
            project_id=job.project_id,
            columns=len(records),
            automatic=automatic,
        )
    return records


def _column_filter(column: str) -> Any:
    parts = column.split(".")
    if len(parts) < 2 or not all(parts):
        raise InvalidInputError(
            f"Column {column!r} must be schema.table.column (or table.column)", column=column
        )
    *table_parts, name = parts
    table = table_parts[-1]
    schema = table_parts[0] if len(table_parts) > 1 else None
    target = [ColumnLineage.target_table == table, ColumnLineage.target_column == name]
    source = [ColumnLineage.source_table == table, ColumnLineage.source_column == name]
    if schema is not None:
        target.append(ColumnLineage.target_schema == schema)
        source.append(func.coalesce(ColumnLineage.source_schema, "") == schema)
    return or_(and_(*target), and_(*source))


def lineage(
    store: Store, project: ProjectRef, column: str | None = None, *, job: int | None = None
) -> list[LineageRecord]:
    """A project's stored lineage, newest job first; with ``column``, rows touching it; with
    ``job``, that job's rows only."""
    require(store, "read", "read lineage")
    project_id = get_project(store, project).id
    query = select(ColumnLineage).where(
        ColumnLineage.project_id == project_id,
        ColumnLineage.organization_id == store.identity.organization_id,
    )
    if column:
        query = query.where(_column_filter(column))
    if job is not None:
        query = query.where(ColumnLineage.job_id == job)
    query = query.order_by(ColumnLineage.job_id.desc(), ColumnLineage.id)
    with store.session() as session:
        return [
            LineageRecord(
                **{f: getattr(row, f) for f in LineageRecord.__dataclass_fields__},
            )
            for row in session.scalars(query)
        ]
