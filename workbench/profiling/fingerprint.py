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

from workbench.connectors.checksums import hash_sum_sql
from workbench.connectors.dialect import SqlDialect
from workbench.errors import UnsupportedError
from workbench.schema.model import Table


def _content_sql(table: Table, dialect: SqlDialect) -> str | None:
    """The sum of every row's hash, with the validation's own row hash (one row hash for the
    whole package): a change detector within one database, not compared across databases."""
    parts = [(dialect.quote(c), True) for c in table.column_names]
    try:
        return f"SELECT {hash_sum_sql(dialect.name, parts)} FROM {dialect.table_ref(table)}"
    except UnsupportedError:
        return None


def content_signal(
    run: Callable[..., list[tuple]], table: Table, dialect: SqlDialect, rows: int, exact_rows: int
) -> str:
    """``exact:<hash sum>`` or ``catalog:<...>``; ``count`` when neither is available."""
    if rows <= exact_rows:
        sql = _content_sql(table, dialect)
        if sql is not None:
            return f"exact:{run(sql)[0][0]}"
    if dialect.catalog_signal is not None:
        sql, params = dialect.catalog_signal(table)
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
