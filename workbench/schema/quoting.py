"""Identifier quoting for the source dialects (the target's DDL uses ``psycopg.sql``)."""

from __future__ import annotations

from workbench.errors import InvalidInputError
from workbench.schema.model import Table

# dialect -> quote character; the quote is doubled inside a name
QUOTES: dict[str, str] = {
    "postgresql": '"',
    "sqlite": '"',
    "duckdb": '"',
    "files": '"',
    "mysql": "`",
}


def quote_ident(name: str, dialect: str) -> str:
    if "\x00" in name:
        raise InvalidInputError(f"Identifier {name!r} contains a NUL byte")
    q = QUOTES[dialect]
    return q + name.replace(q, q + q) + q


def table_ref(table: Table, dialect: str) -> str:
    """The table in a FROM clause; a parent of inherited tables (only PostgreSQL's catalog
    says so) with ONLY: its own rows."""
    name = quote_ident(table.name, dialect)
    ref = f"{quote_ident(table.schema, dialect)}.{name}" if table.schema else name
    return f"ONLY {ref}" if table.has_children else ref
