"""MariaDB -> PostgreSQL copies of the real Sakila database, compared cell by cell."""

from __future__ import annotations

import datetime as dt

import psycopg
import pymysql
import pytest
from sqlalchemy.engine import make_url

from workbench.engine.run import CopyOptions, copy_database


def mysql_rows(url: str, table: str, columns: list[str], order: str) -> list[tuple]:
    u = make_url(url)
    conn = pymysql.connect(
        host=u.host,
        port=u.port,
        user=u.username,
        password=u.password or "",
        database=u.database,
        charset="utf8mb4",
    )
    with conn.cursor() as cur:
        cur.execute("SET time_zone = '+00:00'")
        cur.execute(
            f"SELECT {', '.join(f'`{c}`' for c in columns)} FROM `{table}` ORDER BY {order}"
        )
        out = cur.fetchall()
    conn.close()
    return [tuple(r) for r in out]


def normalize(value):
    """Python values of both drivers, brought to one form (after the type map)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, list):
        return sorted(value)
    return value


@pytest.mark.slow
def test_sakila_mysql_to_postgres(sakila_mysql, target_url, store):
    result = copy_database(
        sakila_mysql, target_url, CopyOptions(workers=2, partition_rows=5000), store=store
    )
    assert result.status == "succeeded", result.warnings
    assert result.validated and result.validation.ok
    db = make_url(sakila_mysql).database
    assert result.tables[f"{db}.rental"]["rows_written"] == 16044
    assert result.tables[f"{db}.payment"]["partitions"] >= 3
    with psycopg.connect(target_url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
                " AND table_type = 'BASE TABLE' ORDER BY 1",
                (db,),
            ).fetchall()
        ]
        assert len(tables) == 16
        for table in [
            "actor",
            "address",
            "customer",
            "film",
            "payment",
            "rental",
            "staff",
            "store",
        ]:
            cols = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = %s"
                    " AND table_name = %s ORDER BY ordinal_position",
                    (db, table),
                ).fetchall()
            ]
            key = cols[0]
            target = conn.execute(f'SELECT * FROM "{db}"."{table}" ORDER BY "{key}"').fetchall()
            source = mysql_rows(sakila_mysql, table, cols, f"`{key}`")
            assert len(source) == len(target)
            for s, t in zip(source, target, strict=True):
                s = [
                    sorted(filter(None, a.split(","))) if isinstance(b, list) else a
                    for a, b in zip(s, t, strict=True)
                ]  # a MySQL set arrives as text
                assert [normalize(v) for v in s] == [normalize(v) for v in t], table
        # types from the map: enum -> text + CHECK, set -> text[], year -> integer, blob -> bytea
        film = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = %s AND table_name = 'film'",
                (db,),
            ).fetchall()
        )
        assert film["special_features"] == "ARRAY"
        assert film["rating"] in ("text", "character varying")
        fks = conn.execute(
            "SELECT count(*) FROM information_schema.table_constraints WHERE table_schema = %s"
            " AND constraint_type = 'FOREIGN KEY'",
            (db,),
        ).fetchone()[0]
        assert fks == 22
