"""SQLite checksums hashed outside SQLite (connectorx + DuckDB) equal the Python aggregate's."""

from __future__ import annotations

import sqlite3

from workbench.connectors import connect, sqlite_hash
from workbench.connectors.checksums import hash_sum_sql
from workbench.connectors.sqltext import quote_ident


def test_split_finds_the_call_whatever_its_text_holds():
    sql = (
        "SELECT COUNT(*), wb_hash60_sum(coalesce(printf('%.2f', \"a)\"), ' FROM (x') || "
        'char(31) || "b,c"), COUNT("d"), SUM(CAST("d" AS REAL)) FROM "t FROM"'
        ' WHERE "id" >= ?'
    )
    rest, position, row, tail = sqlite_hash.split_hash(sql)
    assert position == 1
    assert row == "coalesce(printf('%.2f', \"a)\"), ' FROM (x') || char(31) || \"b,c\""
    assert rest.startswith('SELECT COUNT(*), max(NULL), COUNT("d")')
    assert tail == 'FROM "t FROM" WHERE "id" >= ?'
    assert sqlite_hash.split_hash("SELECT wb_hash60_sum(x) FROM t GROUP BY g") is None
    assert sqlite_hash.split_hash("SELECT wb_hash60_sum(a), wb_hash60_sum(b) FROM t") is None


def test_every_chinook_table_hashes_as_the_aggregate_does(chinook_sqlite, monkeypatch):
    connector = connect(chinook_sqlite)
    outside = []
    real_hash_sum = sqlite_hash.hash_sum

    def spy(*args):
        outside.append(total := real_hash_sum(*args))
        return total

    monkeypatch.setattr("workbench.connectors.sqlite.hash_sum", spy)
    for table in connector.introspect().base_tables:
        parts = [(quote_ident(c.name, "sqlite"), c.nullable) for c in table.columns]
        key = quote_ident(table.primary_key[0], "sqlite")
        count = f"COUNT({parts[-1][0]})"
        sql = (
            f"SELECT COUNT(*), {hash_sum_sql('sqlite', parts)}, {count} FROM"
            f' "{table.name}" WHERE {key} >= ? AND {key} < ?'
        )
        for bounds in ((1, 50), (50, 10**9), (10**9, 10**10)):  # the last range holds no row
            fast = connector.run(sql, bounds)
            assert fast == connector.conn.execute(sql, bounds).fetchall(), (table.name, bounds)
    # every query was hashed outside SQLite, 17 of them over rows (the others empty ranges)
    assert len(outside) == 3 * 11 and sum(1 for t in outside if t) == 17, outside


def test_a_result_connectorx_refuses_while_streaming_leaves_it_to_the_aggregate(tmp_path):
    """Rows are hashed as they stream: a value of another storage class after the first
    batches (connectorx typed the column by the first) is refused mid-stream, not wrong."""
    path = tmp_path / "mixed.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (v)")
        rows = [(i,) for i in range(2 * sqlite_hash.STREAM_ROWS)] + [("x",)] * 10
        conn.executemany("INSERT INTO t VALUES (?)", rows)
    late_number = f"CASE WHEN rowid > {2 * sqlite_hash.STREAM_ROWS} THEN 1 ELSE 'a' || v END"
    assert sqlite_hash.hash_sum(str(path), late_number, "FROM t", []) is None
    assert sqlite_hash.hash_sum(str(path), "'a' || v", "FROM t", [])  # all text: hashed
