"""Rows that do not fit are quarantined with their key and error; the rest loads.
Always: loaded + quarantined = read, per table."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy.engine import make_url

from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import ErrorBudgetExceededError

GOOD = 500


@pytest.fixture
def bad_mysql(mysql_server, mysql_database):
    """A MariaDB table whose rows each break PostgreSQL in one way, among good rows."""
    db = make_url(mysql_database).database
    with mysql_server.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SET SESSION sql_mode = ''")  # lets MariaDB store zero dates
        cur.execute(
            "CREATE TABLE events (id INT PRIMARY KEY, happened DATE NOT NULL, note TEXT,"
            " amount INT, kind ENUM('a','b'))"
        )
        cur.executemany(
            "INSERT INTO events VALUES (%s, '2024-01-02', 'fine', %s, 'a')",
            [(i, i) for i in range(1, GOOD + 1)],
        )
        cur.execute("INSERT INTO events VALUES (1001, '0000-00-00', 'zero date', 1, 'a')")
        cur.execute("INSERT INTO events VALUES (1002, '2024-00-10', 'zero month', 1, 'b')")
        cur.execute("INSERT INTO events VALUES (1003, '2024-01-02', 'nul \\0 byte', 1, 'a')")
        cur.execute("INSERT INTO events VALUES (1004, '2024-01-02', 'huge', 99999999, 'a')")
        cur.execute("INSERT INTO events VALUES (1005, '0009-03-04', 'early but real', 2, 'b')")
    return mysql_database


def quarantine(url: str) -> dict[int, str]:
    with psycopg.connect(url) as conn:
        return {
            int(k["id"]): err
            for k, err in conn.execute(
                "SELECT source_key, error FROM _workbench.quarantine ORDER BY id"
            ).fetchall()
        }


def test_bad_rows_are_quarantined_and_the_rest_loads(bad_mysql, target_url, store):
    options = CopyOptions(
        workers=1,
        batch_rows=200,  # several batches: bisection must isolate rows across them
        type_options={"zero_dates": "strict", "column_overrides": {"events.amount": "smallint"}},
    )
    result = copy_database(bad_mysql, target_url, options, store=store)
    db = make_url(bad_mysql).database
    stats = result.tables[f"{db}.events"]
    assert stats["rows_read"] == GOOD + 5
    assert stats["rows_quarantined"] == 4
    assert stats["rows_written"] + stats["rows_quarantined"] == stats["rows_read"]
    bad = quarantine(target_url)
    assert set(bad) == {1001, 1002, 1003, 1004}
    assert "date" in bad[1001] and "date" in bad[1002]
    assert "0x00" in bad[1003]
    assert "out of range" in bad[1004]
    with psycopg.connect(target_url) as conn:
        early = conn.execute(f'SELECT happened::text FROM "{db}".events WHERE id = 1005').fetchone()
        assert early == ("0009-03-04",)
        rows = conn.execute(
            "SELECT row_data->>'note' FROM _workbench.quarantine"
            " WHERE (source_key->>'id')::int = 1003"
        ).fetchone()
        assert rows[0] == "nul \\u0000 byte"  # kept, with the NUL made visible
    assert result.validated  # quarantined rows are excluded from the source checksum by key


def test_zero_dates_become_null_and_break_not_null(bad_mysql, target_url, store):
    # default policy: zero dates -> NULL; `happened` is NOT NULL, so those rows are rejected
    options = CopyOptions(workers=1, type_options={"zero_dates": "null"})
    result = copy_database(bad_mysql, target_url, options, store=store)
    bad = quarantine(target_url)
    assert {1001, 1002} <= set(bad)
    assert all("null value" in bad[i] for i in (1001, 1002))
    assert result.rows_copied + result.rows_quarantined == result.rows_read == GOOD + 5


def test_error_budget_stops_the_job(bad_mysql, target_url, store):
    options = CopyOptions(workers=1, max_bad_rows=1, type_options={"zero_dates": "strict"})
    with pytest.raises(ErrorBudgetExceededError, match="error budget"):
        copy_database(bad_mysql, target_url, options, store=store)


def test_check_violation_into_existing_table(bad_mysql, target_url, store):
    db = make_url(bad_mysql).database
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{db}"')
        conn.execute(
            f'CREATE TABLE "{db}".events (id int PRIMARY KEY, happened date, note text,'
            " amount int CHECK (amount < 400), kind text)"
        )
    options = CopyOptions(workers=1, if_exists="append", finish=False)
    result = copy_database(bad_mysql, target_url, options, store=store)
    bad = quarantine(target_url)
    assert (
        len([e for e in bad.values() if "check constraint" in e]) == 101 + 1
    )  # amounts 400..500, and row 1004
    assert result.rows_copied + result.rows_quarantined == result.rows_read


def test_invalid_utf8_from_sqlite(tmp_path, target_url, store):
    path = tmp_path / "bad.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"name {i}") for i in range(1, 101)])
    conn.execute("INSERT INTO t VALUES (101, CAST(X'C328FF' AS TEXT))")  # not UTF-8
    conn.commit()
    conn.close()
    result = copy_database(f"sqlite:///{path}", target_url, CopyOptions(workers=1), store=store)
    assert result.rows_read == 101
    assert result.rows_copied + result.rows_quarantined == 101
    assert result.rows_quarantined == 1
    assert set(quarantine(target_url)) == {101}
