"""Loading into tables that already exist in the target, with their own foreign keys."""

from __future__ import annotations

import psycopg

from tests.engine.helpers import rows
from workbench.engine.run import CopyOptions, copy_database


def test_append_into_existing_tables_with_foreign_keys(pg_server, target_url, store):
    name = pg_server.create_database("wbfk")
    source = pg_server.url(name)
    try:
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute("CREATE TABLE parent (id int PRIMARY KEY, name text)")
            conn.execute("CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent)")
            conn.execute("INSERT INTO parent SELECT i, 'p' || i FROM generate_series(1, 50) i")
            conn.execute("INSERT INTO child SELECT i, 1 + i % 50 FROM generate_series(1, 4000) i")
        with psycopg.connect(target_url, autocommit=True) as conn:
            conn.execute("CREATE TABLE parent (id int PRIMARY KEY, name text)")
            conn.execute(
                "CREATE TABLE child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent)"
            )
        # the child table is bigger, so its partitions are scheduled before the parent's
        options = CopyOptions(workers=2, partition_rows=1000, if_exists="append")
        result = copy_database(source, target_url, options, store=store)
        assert result.status == "succeeded" and result.validated
        assert result.rows_quarantined == 0
        assert rows(source, "child", "id") == rows(target_url, "child", "id")
        with psycopg.connect(target_url) as conn:  # the target's own constraint is still there
            fks = conn.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f'").fetchone()
        assert fks == (1,)
    finally:
        pg_server.drop_database(name)
