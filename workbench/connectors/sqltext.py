"""SQL text shared by the SQL connectors: identifier quoting, select lists, partition predicates.

User-supplied names are only ever quoted by :func:`quote_ident` for the source dialect; values
travel as bound parameters (``placeholder`` is the driver's paramstyle marker).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench.connectors.base import Partition
from workbench.errors import InvalidInputError
from workbench.schema.model import Table
from workbench.schema.quoting import quote_ident, table_ref

__all__ = [
    "order_by",
    "partition_predicate",
    "percent_safe",
    "quote_ident",
    "select_list",
    "table_ref",
    "where",
]


def select_list(
    table: Table,
    dialect: str,
    columns: Sequence[str] | None = None,
    expressions: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
) -> tuple[list[str], str]:
    """Output names and the SELECT list; an expression replaces a column, kept under its name.

    ``defaults`` are the connector's own safe read expressions (what its driver cannot
    deliver exactly); the caller's ``expressions`` win over them.
    """
    names = list(columns) if columns is not None else list(table.column_names)
    known = set(table.column_names)
    exprs = {**(defaults or {}), **(expressions or {})}
    parts = []
    for name in names:
        if name not in known and name not in exprs:
            raise InvalidInputError(
                f"Table {table.qualified_name} has no column {name!r}; columns are "
                f"{list(table.column_names)}"
            )
        q = quote_ident(name, dialect)
        parts.append(f"{exprs[name]} AS {q}" if name in exprs else q)
    return names, ", ".join(parts)


def partition_predicate(
    partition: Partition | None, dialect: str, placeholder: str = "%s"
) -> tuple[str, list[Any]]:
    """``(k1, k2) >= (lower) AND (k1, k2) < (upper)`` with bound parameters; "" for all rows."""
    if partition is None or partition.is_whole_table:
        return "", []
    keys = [quote_ident(k, dialect) for k in partition.key_columns]
    clauses: list[str] = []
    params: list[Any] = []
    for bound, op in ((partition.lower, ">="), (partition.upper, "<")):
        if bound is None:
            continue
        if len(bound) != len(keys):
            raise InvalidInputError(
                f"Partition {partition.label} has {len(keys)} key columns but a bound of "
                f"{len(bound)} values"
            )
        marks = ", ".join([placeholder] * len(bound))
        if len(keys) == 1:
            clauses.append(f"{keys[0]} {op} {placeholder}")
        else:
            clauses.append(f"({', '.join(keys)}) {op} ({marks})")
        params.extend(bound)
    return " AND ".join(clauses), params


def percent_safe(sql: str, sentinel: str = "\x00") -> str:
    """For drivers with ``%s`` paramstyle: double the ``%`` of quoted names (``"100%"``), then
    turn the sentinel placeholders into ``%s``."""
    return sql.replace("%", "%%").replace(sentinel, "%s")


def where(predicate: str) -> str:
    return f" WHERE {predicate}" if predicate else ""


def order_by(keys: Sequence[str], dialect: str) -> str:
    return ", ".join(quote_ident(k, dialect) for k in keys)
