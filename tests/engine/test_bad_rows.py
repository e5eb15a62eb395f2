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
    # the partition itself stops at its second bad row, before reading on (uncommitted: no
    # checkpoint, nothing quarantined), not only the job once the partition is in
    with pytest.raises(ErrorBudgetExceededError, match="more than 1 rows do not fit"):
        copy_database(bad_mysql, target_url, options, store=store)
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT count(*) FROM _workbench.checkpoints").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM _workbench.quarantine").fetchone()[0] == 0


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


@pytest.fixture
def enum_mysql(mysql_server, mysql_database):
    """MySQL's ENUM error value: an invalid value stored as '' (index 0) in non-strict mode,
    beside an enum whose real member is '' (index >= 1), which must stay ''."""
    db = make_url(mysql_database).database
    with mysql_server.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SET SESSION sql_mode = ''")
        cur.execute(
            "CREATE TABLE shirts (id INT PRIMARY KEY, size ENUM('small','large'),"
            " fit ENUM('', 'slim') NOT NULL)"
        )
        cur.executemany(
            "INSERT INTO shirts VALUES (%s, %s, %s)",
            [(i, "small" if i % 2 else "large", "slim" if i % 3 else "") for i in range(1, 101)],
        )
        cur.execute("INSERT INTO shirts VALUES (101, 'huge', 'slim')")  # stored as ''
        cur.execute("INSERT INTO shirts VALUES (102, 'tiny', '')")
        cur.execute("SELECT COUNT(*) FROM shirts WHERE size + 0 = 0")
        assert cur.fetchone()[0] == 2  # the server really stored the error value
    return mysql_database


def _shirts(url: str, db: str) -> dict[int, tuple]:
    with psycopg.connect(url) as conn:
        return {
            r[0]: r[1:] for r in conn.execute(f'SELECT id, size, fit FROM "{db}".shirts').fetchall()
        }


def test_enum_error_value_becomes_null_and_is_counted(enum_mysql, target_url, store):
    db = make_url(enum_mysql).database
    result = copy_database(enum_mysql, target_url, CopyOptions(workers=1), store=store)
    assert result.status == "succeeded" and result.validated and result.rows_quarantined == 0
    rows = _shirts(target_url, db)
    assert rows[101] == (None, "slim") and rows[102] == (None, "")  # the member '' stays
    assert rows[1] == ("small", "slim") and rows[3] == ("small", "")
    assert result.tables[f"{db}.shirts"]["nulled"] == {"size": 2}
    said = [w for w in result.warnings if "invalid ENUM values" in w]
    assert said == [
        f"{db}.shirts.size: 2 invalid ENUM values ('') became NULL (type option to keep or "
        "refuse them instead: see docs/type-mapping.md)"
    ]
    from workbench.store import jobs

    logged = [e.message for e in jobs.job_logs(store, result.job_id)]
    assert any("2 invalid ENUM values" in m for m in logged)


def test_enum_error_value_kept_or_quarantined_on_request(enum_mysql, target_url, store):
    db = make_url(enum_mysql).database
    kept = copy_database(
        enum_mysql, target_url, CopyOptions(workers=1, type_options={"enum_invalid": "keep"}),
        store=store,
    )  # fmt: skip
    assert kept.validated and kept.rows_quarantined == 0
    assert _shirts(target_url, db)[101] == ("", "slim")
    refused = copy_database(
        enum_mysql,
        target_url,
        CopyOptions(workers=1, if_exists="replace", type_options={"enum_invalid": "quarantine"}),
        store=store,
    )
    assert refused.rows_quarantined == 2 and refused.validated
    assert {101, 102} == set(quarantine(target_url)) - {1}


def test_zero_dates_of_each_shape_become_null_counted_apart_from_nulls(
    mysql_server, mysql_database, target_url, store
):
    """Zero, zero-month, zero-day and year-0 dates become NULL and are counted; a NULL is
    not counted; the first day PostgreSQL can hold and the last stay (the guard is one
    TO_DAYS per value: it must agree with the three-part test it replaced)."""
    db = make_url(mysql_database).database
    with mysql_server.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SET SESSION sql_mode = ''")
        cur.execute(
            "CREATE TABLE shapes (id INT PRIMARY KEY, d DATE, dt DATETIME(6),"
            " ts TIMESTAMP NULL, nn DATE NOT NULL)"
        )
        cur.execute(
            "INSERT INTO shapes VALUES"
            " (1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00'),"
            " (2, '2024-00-10', '2024-01-00 10:00:00', NULL, '2024-00-00'),"
            " (3, '0000-01-01', '0000-12-31 23:59:59', '2024-02-29 12:00:00', '0001-01-01'),"
            " (4, NULL, NULL, NULL, '9999-12-31'),"
            " (5, '0001-01-01', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01',"
            "  '2024-02-29')"
        )
    options = CopyOptions(workers=1, type_options={"zero_dates": "null"})
    result = copy_database(mysql_database, target_url, options, store=store)
    assert result.validated and result.rows_quarantined == 2  # nn NOT NULL: rows 1 and 2
    assert result.tables[f"{db}.shapes"]["nulled"] == {"d": 3, "dt": 3, "ts": 1, "nn": 2}
    with psycopg.connect(target_url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        rows = conn.execute(
            f'SELECT id, d::text, dt::text, ts::text, nn::text FROM "{db}".shapes ORDER BY id'
        ).fetchall()
    assert rows == [
        (3, None, None, "2024-02-29 12:00:00+00", "0001-01-01"),
        (4, None, None, None, "9999-12-31"),
        (5, "0001-01-01", "9999-12-31 23:59:59.999999", "1970-01-01 00:00:01+00", "2024-02-29"),
    ]
