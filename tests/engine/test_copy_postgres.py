"""PostgreSQL -> PostgreSQL copies of the real Sakila database, compared cell by cell."""

from __future__ import annotations

import psycopg

from workbench.engine.run import CopyOptions, copy_database


def table_rows(url: str, schema: str, table: str, order: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(f'SELECT * FROM "{schema}"."{table}" ORDER BY {order}').fetchall()


def test_sakila_postgres_to_postgres(sakila_pg, target_url, store):
    result = copy_database(
        sakila_pg,
        target_url,
        CopyOptions(workers=2, partition_rows=4000, exclude=("film",)),
        store=store,
    )
    assert result.status == "succeeded"
    assert result.validated
    with psycopg.connect(sakila_pg) as conn:
        expected = conn.execute("SELECT count(*) FROM rental").fetchone()[0]
    assert result.tables["public.rental"]["rows_written"] == expected == 16044
    assert result.tables["public.rental"]["partitions"] >= 4
    for table, order in [
        ("rental", "rental_id"),
        ("payment", "payment_id"),
        ("customer", "customer_id"),
    ]:
        assert table_rows(sakila_pg, "public", table, order) == table_rows(
            target_url, "public", table, order
        ), table
