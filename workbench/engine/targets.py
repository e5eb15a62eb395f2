"""What each source table becomes in the target, and the target DDL around the load.

Column types come from the schema part's type map and DDL from its generator; this module
only decides the engine's side: the plan's columns with their read expressions and
transforms, creating tables before the load (per ``if_exists``), and finishing after it
(keys and indexes in parallel, then foreign keys, sequences, ANALYZE).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from workbench.engine.plan import TablePlan, TargetColumn
from workbench.engine.transforms import ColumnTransform
from workbench.errors import AlreadyExistsError
from workbench.schema.model import Table

if TYPE_CHECKING:
    from workbench.engine.run import CopyOptions

log = logging.getLogger(__name__)


def build_table_plan(table: Table, dialect: str, options: CopyOptions) -> TablePlan:
    rules = options.transforms.get(table.name, {}) or options.transforms.get(
        table.qualified_name, {}
    )
    columns = []
    for col in table.columns:
        if col.generated:
            continue  # computed again by the target (or left out): never copied as data
        rule = rules.get(col.name)
        transform = ColumnTransform.from_rule(col.name, col.name, rule) if rule else None
        columns.append(
            TargetColumn(
                name=col.name,
                pg_type=col.native.raw or col.native.name,
                nullable=col.nullable,
                source=col.name,
                transform=transform,
            )
        )
    return TablePlan(
        source=table, target_schema=options.target_schema, target_name=table.name, columns=columns
    )


def _ident(schema: str, name: str) -> sql.Identifier:
    return sql.Identifier(schema, name)


def create_target_tables(
    conn: psycopg.Connection, plans: list[TablePlan], options: CopyOptions
) -> None:
    schemas = sorted({p.target_schema for p in plans})
    with conn.transaction():
        for s in schemas:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(s)))
        for p in plans:
            exists = conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL",
                (sql.Identifier(p.target_schema, p.target_name).as_string(conn),),
            ).fetchone()[0]
            if exists:
                if options.if_exists == "append":
                    continue
                if options.if_exists == "fail":
                    raise AlreadyExistsError(
                        f"Target table {p.target_schema}.{p.target_name} already exists; use "
                        "--if-exists replace to drop and recreate it, or append to add rows.",
                        table=p.target_name,
                    )
                conn.execute(
                    sql.SQL("DROP TABLE {} CASCADE").format(_ident(p.target_schema, p.target_name))
                )
            cols = sql.SQL(", ").join(
                sql.SQL("{} {}{}").format(
                    sql.Identifier(c.name),
                    sql.SQL(c.pg_type),
                    sql.SQL("" if c.nullable else " NOT NULL"),
                )
                for c in p.columns
            )
            conn.execute(
                sql.SQL("CREATE TABLE {} ({})").format(_ident(p.target_schema, p.target_name), cols)
            )


def _run_all(
    target_url: str, statements: list[tuple[str, Any]], timeout: float, parallel: int
) -> list[str]:
    warnings: list[str] = []

    def run(item: tuple[str, Any]) -> None:
        label, stmt = item
        try:
            with psycopg.connect(target_url, connect_timeout=int(timeout), autocommit=True) as conn:
                conn.execute(stmt)
        except psycopg.Error as exc:
            warnings.append(f"{label} failed: {str(exc).strip().splitlines()[0]}")

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        list(pool.map(run, statements))
    return warnings


def finish_tables(
    target_url: str, plans: list[TablePlan], timeout: float, parallel: int = 2
) -> list[str]:
    """Keys and indexes (in parallel), then foreign keys, then ANALYZE; failures become warnings."""
    keys = []
    for p in plans:
        if p.source.primary_key:
            keys.append(
                (
                    f"primary key of {p.target_name}",
                    sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({})").format(
                        _ident(p.target_schema, p.target_name),
                        sql.SQL(", ").join(sql.Identifier(c) for c in p.source.primary_key),
                    ),
                )
            )
    warnings = _run_all(target_url, keys, timeout, parallel)
    analyze = [
        (
            f"analyze {p.target_name}",
            sql.SQL("ANALYZE {}").format(_ident(p.target_schema, p.target_name)),
        )
        for p in plans
    ]
    return warnings + _run_all(target_url, analyze, timeout, parallel)
