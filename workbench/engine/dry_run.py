"""What a copy would do, done by nothing: ``workbench copy --dry-run``.

The same planning as a real job (tables chosen, target names and types, split points) and the
exact DDL it would run, read from the source's catalog; the target is only asked which of the
tables exist already. Nothing is created, copied or recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from workbench.connectors import connect
from workbench.connectors.sealed import reveal
from workbench.engine import targets
from workbench.engine.options import CopyOptions
from workbench.engine.plan import plan_job
from workbench.urls import mask_text


@dataclass
class PlannedTable:
    source: str
    target: str
    rows: int | None  # the catalog's estimate (or the sample's, for big tables)
    partitions: int
    key: tuple[str, ...]
    exists: bool | None  # in the target already (None: the target did not answer)


@dataclass
class DryRun:
    tables: list[PlannedTable]
    ddl: str
    target_note: str = ""  # why the target could not be asked, if it could not
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows or 0 for t in self.tables)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tables": [t.__dict__ for t in self.tables],
            "rows": self.rows,
            "partitions": sum(t.partitions for t in self.tables),
            "ddl": self.ddl,
            "target_note": self.target_note,
            "notes": self.notes,
        }


def dry_run(source_url: str, target_url: str, options: CopyOptions) -> DryRun:
    """Plan the copy of ``source_url`` into ``target_url`` and render its DDL; change nothing."""
    source = connect(source_url, options=options.source_options)
    try:
        plan = plan_job(source, options, "dry-run", None)
    finally:
        source.close()
    script = targets.job_ddl(plan.tables, plan.source_schema, options)
    exists, note = _existing(target_url, [(p.target_schema, p.target_name) for p in plan.tables])
    tables = [
        PlannedTable(
            source=p.name,
            target=f"{p.target_schema}.{p.target_name}",
            rows=p.row_estimate,
            partitions=max(1, len(p.partitions)),
            key=p.key_columns,
            exists=None if exists is None else (p.target_schema, p.target_name) in exists,
        )
        for p in plan.tables
    ]
    notes = [n for p in plan.tables for n in p.notes]
    return DryRun(tables, script.text(), note, notes)


def _existing(
    target_url: str, names: list[tuple[str, str]]
) -> tuple[set[tuple[str, str]] | None, str]:
    """The target tables among ``names`` that exist, or None and why the target did not say."""
    try:
        with psycopg.connect(reveal(target_url), connect_timeout=10) as conn:
            found = set()
            for schema, name in names:
                ref = sql.Identifier(schema, name).as_string(conn)
                row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (ref,)).fetchone()
                if row and row[0]:
                    found.add((schema, name))
            return found, ""
    except psycopg.Error as exc:
        return None, mask_text(f"the target did not answer ({exc}); existing tables not checked")
