"""PostgreSQL -> PostgreSQL copies of the real Sakila database, compared cell by cell."""

from __future__ import annotations

import psycopg
import pytest

from tests.engine.helpers import rows
from workbench.engine.run import CopyOptions, copy_database

CATALOG = """
SELECT c.relname, (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
                   FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1
"""


def keyed_tables(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute(CATALOG).fetchall())


def constraint_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return dict(
            conn.execute(
                "SELECT contype::text, count(*) FROM pg_constraint c JOIN pg_namespace n"
                " ON n.oid = c.connamespace WHERE n.nspname = 'public' GROUP BY 1"
            ).fetchall()
        )


@pytest.mark.slow
def test_sakila_postgres_to_postgres(sakila_pg, target_url, store):
    result = copy_database(
        sakila_pg, target_url, CopyOptions(workers=2, partition_rows=4000), store=store
    )
    assert result.status == "succeeded"
    assert result.validated and result.validation.ok
    assert result.tables["public.rental"]["rows_written"] == 16044
    assert result.tables["public.rental"]["partitions"] >= 4
    source_tables = keyed_tables(sakila_pg)
    assert keyed_tables(target_url) == source_tables  # every primary key, same columns
    for table, key in source_tables.items():
        assert rows(sakila_pg, table, key) == rows(target_url, table, key), table
    source_constraints = constraint_counts(sakila_pg)
    target_constraints = constraint_counts(target_url)
    assert target_constraints.get("f") == source_constraints.get("f")  # foreign keys
    assert target_constraints.get("p") == source_constraints.get("p")
