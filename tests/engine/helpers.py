"""Helpers for engine tests: build source tables, compare tables row by row."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg


def rows(url: str, table: str, order: str, schema: str = "public") -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(f'SELECT * FROM "{schema}"."{table}" ORDER BY {order}').fetchall()


def count(url: str, table: str, schema: str = "public") -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]


def make_numbers_table(url: str, n: int, name: str = "numbers") -> None:
    """A keyed table with a few types, n rows."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute(
            f"CREATE TABLE {name} (id bigint PRIMARY KEY, label text NOT NULL,"
            " amount numeric(12,2), at timestamptz, flag boolean, blob bytea)"
        )
        conn.execute(
            f"INSERT INTO {name} SELECT i, 'row ' || i, i * 0.25, timestamptz '2024-01-01'"
            " + i * interval '1 second', i %% 3 = 0, decode(md5(i::text), 'hex')"
            " FROM generate_series(1, %s) i",
            (n,),
        )
        conn.execute(f"ANALYZE {name}")


@contextmanager
def mysql_tables(server: Any, prefix: str, *statements: str) -> Iterator[tuple[str, str]]:
    """A throwaway MariaDB database made by ``statements`` (in UTC, with zero dates and the
    ENUM error value allowed): its name and URL; dropped afterwards."""
    name = server.create_database(prefix)
    try:
        with server.connect(name) as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_mode = ''")
            cur.execute("SET time_zone = '+00:00'")
            for statement in statements:
                cur.execute(statement)
        yield name, server.url(name)
    finally:
        server.drop_database(name)
