"""The content signal of a table's fingerprint, in each kind of database: the validation's own
row hash summed in the database; a changed value, a NULL for an empty string or a swapped
pair of values changes it, the same rows in another order do not."""

from __future__ import annotations

import sqlite3

import duckdb
import psycopg
import pytest
from sqlalchemy.engine import make_url

from workbench.connectors import connect
from workbench.profiling.fingerprint import content_signal

ROWS = [(1, "a", 1.5), (2, "", None), (3, "c", -2.0)]
CHANGES = [
    "UPDATE t SET name = 'b' WHERE id = 1",  # a value
    "UPDATE t SET name = NULL WHERE id = 2",  # '' became NULL
    "UPDATE t SET x = 1.5 WHERE id = 3",  # a value moved to another row
]


def _exec_sqlite(path, sql):
    with sqlite3.connect(path) as db:
        db.execute(sql)


def _exec_pg(url, sql):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def _exec_mysql(server, database, sql):
    with server.connect(database) as conn, conn.cursor() as cur:
        cur.execute(sql)


def _exec_duckdb(path, sql):
    with duckdb.connect(str(path)) as db:
        db.execute(sql)


@pytest.fixture(params=["sqlite", "postgresql", "mysql", "duckdb"])
def database(request, tmp_path):
    """(url, execute) for an empty database of each kind."""
    kind = request.param
    if kind == "sqlite":
        path = tmp_path / "t.sqlite"
        return f"sqlite:///{path}", lambda sql: _exec_sqlite(path, sql)
    if kind == "postgresql":
        url = request.getfixturevalue("pg_database")
        return url, lambda sql: _exec_pg(url, sql)
    if kind == "mysql":
        url = request.getfixturevalue("mysql_database")
        server = request.getfixturevalue("mysql_server")
        return url, lambda sql: _exec_mysql(server, make_url(url).database, sql)
    path = tmp_path / "t.duckdb"
    return f"duckdb:///{path}", lambda sql: _exec_duckdb(path, sql)


def _signal(url: str) -> str:
    connector = connect(url)
    try:
        table = connector.introspect().table("t")
        return content_signal(connector.run, table, connector.dialect, 3, 100)
    finally:
        connector.close()


def test_the_content_signal_sees_every_change_but_not_the_order(database):
    url, execute = database
    execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(10), x DOUBLE PRECISION)")
    values = ", ".join(f"({i}, '{n}', {'NULL' if x is None else x})" for i, n, x in ROWS)
    execute(f"INSERT INTO t VALUES {values}")
    first = _signal(url)
    assert first.startswith("exact:")
    execute("DELETE FROM t")
    reversed_values = ", ".join(
        f"({i}, '{n}', {'NULL' if x is None else x})" for i, n, x in reversed(ROWS)
    )
    execute(f"INSERT INTO t VALUES {reversed_values}")
    assert _signal(url) == first  # the same rows, inserted in another order
    seen = {first}
    for change in CHANGES:
        execute(change)
        now = _signal(url)
        assert now not in seen, change
        seen.add(now)
