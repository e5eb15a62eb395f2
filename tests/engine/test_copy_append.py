"""Loading into tables that already exist in the target, with their own foreign keys."""

from __future__ import annotations

import psycopg
import pytest

from tests.engine.helpers import rows
from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import InvalidInputError


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


def test_append_into_a_table_without_the_copys_columns_is_refused_before_any_row(
    pg_server, target_url, store
):
    """Named, every missing column of every table, before anything is written: a partition's
    COPY failed on the first one, after the other tables were loaded."""
    name = pg_server.create_database("wbshape")
    source = pg_server.url(name)
    try:
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute("CREATE TABLE fine (id int PRIMARY KEY, v text)")
            conn.execute("CREATE TABLE odd (id int PRIMARY KEY, n int, v text)")
            conn.execute("INSERT INTO fine SELECT i, 'v' || i FROM generate_series(1, 300) i")
            conn.execute("INSERT INTO odd SELECT i, i, 'v' FROM generate_series(1, 300) i")
        with psycopg.connect(target_url, autocommit=True) as conn:
            conn.execute("CREATE TABLE fine (id int PRIMARY KEY, v text)")
            conn.execute("CREATE TABLE odd (id int PRIMARY KEY, other int)")
        options = CopyOptions(workers=2, if_exists="append")
        with pytest.raises(InvalidInputError) as caught:
            copy_database(source, target_url, options, store=store)
        assert "public.odd lacks n, v (it has id, other)" in str(caught.value)
        with psycopg.connect(target_url) as conn:  # nothing was appended anywhere
            assert conn.execute("SELECT count(*) FROM fine").fetchone() == (0,)
    finally:
        pg_server.drop_database(name)
