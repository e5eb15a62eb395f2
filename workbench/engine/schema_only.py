"""Target tables made from the source's type map, empty: what a first session matches against
when the target database is new (``workbench match ... --create-tables``).

The same DDL a copy runs (``engine.targets.job_ddl``): tables, then keys, indexes and foreign
keys at once (the tables are empty), for the source tables the target does not have yet.
A later ``workbench migrate`` loads into them as into any existing table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from workbench.connectors import connect
from workbench.engine import targets
from workbench.engine.options import CopyOptions
from workbench.engine.plan import plan_job
from workbench.errors import MigrationError


@dataclass
class CreatedTables:
    created: list[str] = field(default_factory=list)  # schema.table
    existing: list[str] = field(default_factory=list)  # left as they were


def create_missing_tables(
    source_url: str, target_url: str, options: CopyOptions | None = None
) -> CreatedTables:
    """Create, empty, the source tables the target lacks; keys, indexes and foreign keys too."""
    options = options or CopyOptions()
    source = connect(source_url, options=options.source_options)
    try:
        plan = plan_job(source, options, "schema-only", None)
    finally:
        source.close()
    with psycopg.connect(target_url, autocommit=True) as conn:
        missing = targets.missing_tables(conn, plan.tables)
    new = {id(p) for p in missing}
    done = CreatedTables(
        existing=[f"{p.target_schema}.{p.target_name}" for p in plan.tables if id(p) not in new]
    )
    if not missing:
        return done
    script = targets.job_ddl(missing, plan.source_schema, options)
    statements = sorted(script.post_load, key=targets.statement_phase)
    with psycopg.connect(target_url) as conn, conn.transaction():
        for statement in [*script.create, *statements]:
            try:
                conn.execute(statement)
            except psycopg.Error as exc:
                raise MigrationError(
                    f"Creating the target tables stopped at {targets.describe_statement(statement)}"
                    f": {str(exc).strip().splitlines()[0]}; nothing was created"
                ) from exc
    done.created = [f"{p.target_schema}.{p.target_name}" for p in missing]
    return done
