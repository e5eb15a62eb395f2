"""SQLite sources: rows rendered as COPY text by SQLite, passed to the target unparsed.

The judge is the general path (Arrow batches rendered by the workbench): the same table
copied both ways must land identical cell for cell and validate. Values chosen to break a
text rendering: integer extremes, decimals stored as REAL, INTEGER and TEXT, dates and
timestamps as text, tabs, newlines, carriage returns, backslashes, a literal \\N, empty text
and empty blobs, non-ASCII, NULL in every nullable column; and values of another storage class
than their column's (text in an INTEGER column), which the general path refuses.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from workbench.connectors.sqlite import SQLiteConnector
from workbench.engine.run import CopyOptions, copy_database

DDL = """
CREATE TABLE awkward (
  id INTEGER PRIMARY KEY, n INTEGER, big BIGINT NOT NULL, price DECIMAL(12, 2),
  d DATE, ts DATETIME, name VARCHAR(40), note TEXT NOT NULL, raw BLOB, untyped
)
"""
ROWS = [
    (1, -(2**63), 2**63 - 1, 12.5, "1000-01-01", "9999-12-31 23:59:59.999999",
     "tab\there", "new\nline\r\nback\\slash", b"\x00\x01\xff", "x"),
    (2, 0, 0, "99.99", "2024-02-29", "2024-02-29 00:00:00", "\\N", "NULL", b"", 42),
    (3, None, -1, None, None, None, None, "", None, None),
    (4, 7, 7, 3, "2020-01-01", "2020-01-01 12:00:00", "ünï 😀", "é\\", b"\\\t", 1.5),
]  # fmt: skip


def _database(path: Path, rows: int = 1200) -> str:
    conn = sqlite3.connect(path)
    conn.execute(DDL)
    conn.executemany("INSERT INTO awkward VALUES (?,?,?,?,?,?,?,?,?,?)", ROWS)
    conn.execute(
        "WITH RECURSIVE s(i) AS (SELECT 5 UNION ALL SELECT i + 1 FROM s WHERE i < ?)"
        " INSERT INTO awkward SELECT i, i * 3, i, i / 7.0, date('2020-01-01', '+' || i || ' days'),"
        " datetime('2001-02-03 04:05:06', '+' || i || ' seconds'),"
        " 'row ' || i || CASE WHEN i % 3 = 0 THEN char(9) ELSE '' END,"
        " CASE WHEN i % 5 = 0 THEN 'line' || char(10) || i || '\\' ELSE 'line ' || i END,"
        " CASE WHEN i % 2 = 0 THEN randomblob(i % 9) END, i FROM s",
        (rows,),
    )
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def rows_as_text(url: str, schema: str, table: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(f'SELECT r::text FROM "{schema}"."{table}" r ORDER BY id').fetchall()


@pytest.mark.local_cluster  # threads of this process: the general path is patched in below
def test_every_awkward_value_lands_as_the_general_path_lands_it(
    tmp_path, target_url, store, monkeypatch
):
    url = _database(tmp_path / "awkward.sqlite")
    fast = copy_database(url, target_url, CopyOptions(partition_rows=300), store=store)
    assert fast.status == "succeeded" and fast.validated and fast.validation.ok
    stats = fast.tables["awkward"]
    assert stats["partitions"] >= 4 and stats["partitions_as_text"] == stats["partitions"]
    assert stats["rows_written"] == 1200

    monkeypatch.setattr(SQLiteConnector, "can_copy_text", lambda self, table, fields: False)
    general = copy_database(
        url, target_url, CopyOptions(partition_rows=300, target_schema="general"), store=store
    )
    assert general.status == "succeeded" and general.validated
    assert not general.tables["awkward"].get("partitions_as_text")

    fast_rows = rows_as_text(target_url, "public", "awkward")
    assert len(fast_rows) == 1200 and fast_rows == rows_as_text(target_url, "general", "awkward")
    with psycopg.connect(target_url) as conn:  # what the values are, not only equal
        one, two = conn.execute(
            "SELECT n, big, price, name, note, raw, untyped FROM awkward WHERE id IN (1, 2)"
            " ORDER BY id"
        ).fetchall()
    assert one[:2] == (-(2**63), 2**63 - 1) and str(one[2]) == "12.50"
    assert one[3:6] == ("tab\there", "new\nline\r\nback\\slash", b"\x00\x01\xff")
    assert two[3:7] == ("\\N", "NULL", b"", "42")


def test_a_value_of_another_storage_class_sends_its_partition_the_general_way(
    tmp_path, target_url, store
):
    url = _database(tmp_path / "mixed.sqlite")
    conn = sqlite3.connect(tmp_path / "mixed.sqlite")
    # PostgreSQL would read these as integers (16 and newer read 0x1A); the general path
    # refuses a BLOB or text in an INTEGER column
    conn.execute("UPDATE awkward SET n = x'3132' WHERE id = 700")  # the bytes of '12'
    conn.execute("UPDATE awkward SET big = '0x1A' WHERE id = 900")
    # a BLOB in a TEXT column: the general path loads its text, so the text path leaves it there
    conn.execute("UPDATE awkward SET name = x'41' WHERE id = 1100")
    conn.commit()
    conn.close()
    result = copy_database(url, target_url, CopyOptions(partition_rows=300), store=store)
    stats = result.tables["awkward"]
    assert result.status == "succeeded" and stats["partitions"] == 4
    assert stats["rows_written"] == 1198 and stats["rows_quarantined"] == 2
    # rows 700 and 900 share the third partition, row 1100 is in the fourth
    assert stats["partitions_as_text"] == 2
    with psycopg.connect(target_url) as conn:
        kept = conn.execute("SELECT id, name FROM awkward WHERE id IN (700, 900, 1100)")
        assert kept.fetchall() == [(1100, "A")]
        keys = conn.execute("SELECT source_key FROM _workbench.quarantine ORDER BY 1").fetchall()
    assert keys == [({"id": 700},), ({"id": 900},)]


def test_a_real_column_keeps_its_table_on_the_general_path(tmp_path, target_url, store):
    db = tmp_path / "real.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, r REAL)")
    # SQLite's text of 0.1 + 0.2 is 0.3: the general path loads the double itself
    conn.executemany("INSERT INTO m VALUES (?, ?)", [(1, 0.1 + 0.2), (2, 1e-300), (3, None)])
    conn.commit()
    conn.close()
    result = copy_database(f"sqlite:///{db}", target_url, CopyOptions(), store=store)
    assert result.status == "succeeded" and result.validated
    assert not result.tables["m"].get("partitions_as_text")
    with psycopg.connect(target_url) as c:
        assert c.execute("SELECT r FROM m ORDER BY id").fetchall() == [
            (0.30000000000000004,),
            (1e-300,),
            (None,),
        ]


@pytest.mark.parametrize("without_rowid", [False, True], ids=["rowid", "without-rowid"])
def test_lines_with_specials_are_escaped_with_or_without_a_rowid(
    tmp_path, target_url, store, without_rowid
):
    """Lines are read without escapes and checked; those that need escapes are read again
    by rowid. A table without a rowid is read escaped at once."""
    db = tmp_path / "notes.sqlite"
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE notes (k TEXT PRIMARY KEY, v TEXT)"
        + (" WITHOUT ROWID" if without_rowid else "")
    )
    values = {f"k{i:04}": f"v{i}" for i in range(2000)}
    specials = ["a\tb", "c\nd", "e\\f", "g\rh", "\\N", "\t", "\n\n", "x\\\\y"]
    for i, value in enumerate(specials):
        values[f"k{i * 250:04}"] = value
    values["k\tkey"] = "key with a tab"
    conn.executemany("INSERT INTO notes VALUES (?, ?)", values.items())
    conn.commit()
    conn.close()
    result = copy_database(f"sqlite:///{db}", target_url, CopyOptions(), store=store)
    stats = result.tables["notes"]
    assert result.status == "succeeded" and result.validated and result.validation.ok
    assert stats["partitions_as_text"] == stats["partitions"]
    with psycopg.connect(target_url) as c:
        landed = c.execute("SELECT k, v FROM notes").fetchall()  # in the heap's order
    assert dict(landed) == values
    if not without_rowid:  # the escaped lines are spliced in place: the rows keep their order
        assert [k for k, _ in landed] == list(values)
