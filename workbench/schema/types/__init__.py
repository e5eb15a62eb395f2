"""Cross-dialect type mapping into PostgreSQL, kept as readable tables of rules.

- ``model``: :class:`TypeRule` (one row: source type -> PostgreSQL type, note, read
  expression), :class:`TypeOptions` (switches and overrides), :class:`ColumnPlan` and
  :class:`TableTypePlan` (what the engine and the DDL use).
- ``mysql``, ``postgres``, ``sqlite``, ``duckdb``: each dialect's rows, plus the helpers the
  engine calls (:func:`zero_date_count_sql`, :func:`mismatch_count_sql`).
- :class:`TypeMap` (per kind, its module's ``TYPE_MAP``): the rules and what the planner
  may assume of the kind (same engine as the target, schemas as namespaces, value rules).
- ``plan``: :func:`plan_column`, :func:`plan_table`, :func:`plan_schema`.
- ``docs``: renders docs/type-mapping.md from the rows.
"""

from workbench.schema.types.model import ColumnPlan, TableTypePlan, TypeMap, TypeOptions, TypeRule
from workbench.schema.types.mysql import zero_date_count_sql
from workbench.schema.types.plan import plan_column, plan_schema, plan_table, rules_for, type_map
from workbench.schema.types.sqlite import mismatch_count_sql

__all__ = [
    "ColumnPlan",
    "TableTypePlan",
    "TypeMap",
    "TypeOptions",
    "TypeRule",
    "mismatch_count_sql",
    "plan_column",
    "plan_schema",
    "plan_table",
    "rules_for",
    "type_map",
    "zero_date_count_sql",
]
