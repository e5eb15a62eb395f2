"""MariaDB's ON UPDATE CURRENT_TIMESTAMP goes with its column, as a trigger in the target.

The column landed with its default and nothing else: after the cutover, an application's
UPDATEs no longer moved its "changed at" times, and the job did not say so. The target gets
a BEFORE UPDATE trigger doing what MariaDB does (a change of the row that does not set the
column itself sets it to now), except in the follower's sessions, which write the source's
own times.
"""

from __future__ import annotations

import datetime as dt

import psycopg

from workbench.engine.run import CopyOptions, copy_database
from workbench.schema.ddl import APPLYING_CHANGES


def test_on_update_current_timestamp_becomes_a_trigger(mysql_server, target_url, store):
    name = mysql_server.create_database("wbonupd")
    with mysql_server.connect(name) as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE items (id INT PRIMARY KEY, v INT, changed TIMESTAMP(6) NOT NULL"
            " DEFAULT '2001-01-01 00:00:00' ON UPDATE CURRENT_TIMESTAMP(6), untouched DATETIME)"
        )
        cur.executemany("INSERT INTO items (id, v) VALUES (%s, %s)", [(i, i) for i in range(3)])
    try:
        result = copy_database(mysql_server.url(name), target_url, CopyOptions(), store=store)
        assert result.status == "succeeded" and result.validated, result.validation
        table = f'"{name}".items'
        old = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)
        with psycopg.connect(target_url, autocommit=True) as conn:
            before = dt.datetime.now(dt.UTC)
            conn.execute(f"UPDATE {table} SET v = 10 WHERE id = 0")  # moves: a change
            conn.execute(f"UPDATE {table} SET v = 11, changed = '1999-09-09Z' WHERE id = 1")
            conn.execute(f"UPDATE {table} SET v = 2 WHERE id = 2")  # no change: stays
            conn.execute(APPLYING_CHANGES)  # the follower's session: the source's own times
            conn.execute(f"UPDATE {table} SET v = 20 WHERE id = 2")
            rows = conn.execute(
                f"SELECT id, changed, untouched FROM {table} ORDER BY id"
            ).fetchall()
        assert rows[0][1] >= before and rows[0][2] is None
        assert rows[1][1] == dt.datetime(1999, 9, 9, tzinfo=dt.UTC)
        assert rows[2][1] == old
    finally:
        mysql_server.drop_database(name)


def test_expression_defaults_are_translated_or_named(mysql_server, target_url, store):
    """MariaDB's expression defaults ((uuid()), (1 + 2)) were dropped, and nothing said so:
    rows inserted after a cutover got NULL. uuid() becomes gen_random_uuid(), expressions
    PostgreSQL takes as they are are kept, and the others are listed as not migrated."""
    name = mysql_server.create_database("wbdefaults")
    with mysql_server.connect(name) as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE t (id INT PRIMARY KEY, u CHAR(36) DEFAULT (uuid()),"
            " n INT DEFAULT (1 + 2), label VARCHAR(9) DEFAULT (concat('a', 'b')),"
            " later DATE DEFAULT (curdate() + INTERVAL 1 DAY), at DATETIME DEFAULT (now()))"
        )
        cur.execute("INSERT INTO t (id) VALUES (1)")
    try:
        result = copy_database(mysql_server.url(name), target_url, CopyOptions(), store=store)
        assert result.status == "succeeded" and result.validated, result.validation
        assert [m["object"] for m in result.not_migrated] == [f"default of {name}.t.later"]
        with psycopg.connect(target_url, autocommit=True) as conn:
            row = conn.execute(
                f'INSERT INTO "{name}".t (id) VALUES (2) RETURNING u, n, label, later, at'
            ).fetchone()
        assert len(row[0]) == 36 and row[1:4] == (3, "ab", None) and row[4] is not None
    finally:
        mysql_server.drop_database(name)
