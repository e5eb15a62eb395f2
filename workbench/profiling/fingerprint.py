"""A table's fingerprint: its columns, its row count and a cheap content signal.

The signal is exact for tables up to ``exact_rows`` (a hash of every row summed inside the
database: any insert, update or delete changes it) and catalog-based above that (PostgreSQL:
relation size and the insert/update/delete counters; MySQL: data length and update time),
so a 10-million-row table is not read in full just to learn that nothing changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from workbench.connectors.checksums import hash_sum_sql
from workbench.connectors.sqltext import quote_ident, table_ref
from workbench.errors import UnsupportedError
from workbench.schema.model import Table


def _content_sql(table: Table, dialect: str) -> str | None:
    """The sum of every row's hash, with the validation's own row hash (one row hash for the
    whole package): a change detector within one database, not compared across databases."""
    parts = [(quote_ident(c, dialect), True) for c in table.column_names]
    try:
        return f"SELECT {hash_sum_sql(dialect, parts)} FROM {table_ref(table, dialect)}"
    except UnsupportedError:
        return None


def _catalog_sql(table: Table, dialect: str) -> tuple[str, list[Any]] | None:
    if dialect == "postgresql":
        return (
            "SELECT pg_relation_size(c.oid), s.n_tup_ins, s.n_tup_upd, s.n_tup_del "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE n.nspname = %s AND c.relname = %s",
            [table.schema or "public", table.name],
        )
    if dialect == "mysql":
        return (
            "SELECT DATA_LENGTH, UPDATE_TIME, AUTO_INCREMENT FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
            [table.schema, table.name],
        )
    return None


def content_signal(
    run: Callable[..., list[tuple]], table: Table, dialect: str, rows: int, exact_rows: int
) -> str:
    """``exact:<hash sum>`` or ``catalog:<...>``; ``count`` when neither is available."""
    if rows <= exact_rows:
        sql = _content_sql(table, dialect)
        if sql is not None:
            return f"exact:{run(sql)[0][0]}"
    catalog = _catalog_sql(table, dialect)
    if catalog is not None:
        sql, params = catalog
        found = run(sql, params)
        if found:
            return "catalog:" + json.dumps([str(v) for v in found[0]])
    return "count"


def fingerprint(table: Table, rows: int, signal: str) -> str:
    """sha256 over the column names and declared types, the exact row count and the signal."""
    data = {
        "columns": [[c.name, c.native.raw or c.native.name] for c in table.columns],
        "rows": rows,
        "signal": signal,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]
