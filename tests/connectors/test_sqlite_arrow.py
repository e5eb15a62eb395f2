"""SQLite partitions through connectorx where it reads them exactly, else the standard reader.

Each case reads the same partition both ways and expects the same Arrow values; where
connectorx would stop (a value of another storage class) or type a column otherwise than the
connector's contract (a BOOLEAN holding 2), the partition falls back and keeps every row.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

import pyarrow as pa
import pytest

from workbench.connectors import connect
from workbench.connectors.base import REJECT_COLUMN, Partition
from workbench.connectors.sqlite_arrow import inline, read_exactly

CLEAN = """
CREATE TABLE people (
  name TEXT PRIMARY KEY, age INTEGER, height REAL, photo BLOB, born DATE,
  balance DECIMAL(10, 2), note VARCHAR(20)
);
INSERT INTO people VALUES
  ('Ann', 31, 1.62, x'00ff', '1993-04-01', 10.25, NULL),
  ('O''Brien', NULL, NULL, NULL, '2000-01-01', 0, 'quote '' and ?'),
  ('Zoë', 9223372036854775807, -1e308, x'', '2024-02-29', -0.01, '');
"""


def _db(path, script: str) -> str:
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def _read(url: str, table: str, partition: Partition) -> pa.Table:
    conn = connect(url)
    try:
        t = conn.introspect().table(table)
        return pa.Table.from_batches(list(conn.read_partition(t, partition)))
    finally:
        conn.close()


def _standard(url: str, table: str, partition: Partition, monkeypatch) -> pa.Table:
    with monkeypatch.context() as m:
        m.setattr("workbench.connectors.sqlite.read_exactly", lambda *a: None)
        return _read(url, table, partition)


def test_a_clean_partition_reads_through_connectorx_with_the_same_values(tmp_path, monkeypatch):
    url = _db(tmp_path / "clean.db", CLEAN)
    used = []
    original = read_exactly

    def spy(*args):
        found = original(*args)
        used.append(found is not None)
        return found

    monkeypatch.setattr("workbench.connectors.sqlite.read_exactly", spy)
    # bounds with a quote: inlined as literals, since connectorx binds no parameters
    for partition in [
        Partition("people", None, 0),
        Partition("people", None, 1, ("name",), ("Ann",), ("Zoë",)),
        Partition("people", None, 2, ("name",), ("O'Brien",), None),
    ]:
        fast = _read(url, "people", partition)
        assert fast == _standard(url, "people", partition, monkeypatch)
        assert fast.num_rows == {0: 3, 1: 2, 2: 2}[partition.index]
    assert used == [True, True, True]
    whole = _read(url, "people", Partition("people", None, 0))
    assert whole.column("balance").to_pylist() == ["10.25", "0", "-0.01"]  # exact, as text
    assert whole.column("photo").to_pylist() == [b"\x00\xff", None, b""]


@pytest.mark.parametrize(
    "script,column,expected",
    [
        # text in an INTEGER column: connectorx stops; the row is kept with its reason
        (
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);"
            "INSERT INTO t VALUES (1, 5), (2, 'oops'), (3, 7);",
            "v",
            [5, None, 7],
        ),
        # a BOOLEAN holding 2: connectorx would say true; the contract says int64 2
        (
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v BOOLEAN);"
            "INSERT INTO t VALUES (1, 0), (2, 2), (3, 1);",
            "v",
            [0, 2, 1],
        ),
        # a cast column whose first value is NULL: connectorx cannot type it
        (
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v DATE);"
            "INSERT INTO t VALUES (1, NULL), (2, '2024-01-01');",
            "v",
            [None, "2024-01-01"],
        ),
    ],
)
def test_what_connectorx_cannot_read_exactly_falls_back(tmp_path, script, column, expected):
    path = tmp_path / "odd.db"
    url = _db(path, script)
    conn = connect(url)
    t = conn.introspect().table("t")
    conn.close()
    ids = ", ".join(c for c in t.column_names)
    assert read_exactly(str(path), f"SELECT {ids} FROM t", pa.schema([
        pa.field("id", pa.int64()), pa.field("v", pa.int64())])) is None  # fmt: skip
    got = _read(url, "t", Partition("t", None, 0))
    assert got.column(column).to_pylist() == expected
    if expected == [5, None, 7]:
        reasons = got.column(REJECT_COLUMN).to_pylist()
        assert reasons[0] is None and "'oops'" in reasons[1]


def test_a_path_connectorx_would_misread_is_read_by_the_standard_reader(tmp_path):
    folder = tmp_path / "a dir, with spaces"
    folder.mkdir()
    url = _db(folder / "clean.db", CLEAN)
    one = pa.schema([("a", pa.int64())])
    assert read_exactly(str(folder / "clean.db"), "SELECT 1", one) is None
    assert _read(url, "people", Partition("people", None, 0)).num_rows == 3


def test_inline_renders_safe_literals_or_declines():
    assert inline("a >= ? AND a < ?", ["O'Brien", 5]) == "a >= 'O''Brien' AND a < 5"
    assert inline("a = ?", [b"\x00\x01"]) == "a = X'0001'"
    # dates and times as SQLite's own text, whatever adapters sqlite3 was given
    assert inline("a >= ?", [dt.datetime(2026, 1, 1, 10, 0, 59)]) == "a >= '2026-01-01 10:00:59'"
    assert inline("a >= ?", [dt.date(2026, 1, 1)]) == "a >= '2026-01-01'"
    assert inline("a = ?", [float("nan")]) is None
    assert inline("a = ?", [None]) is None
    assert inline("a = '?' AND b = ?", [1]) is None  # a ? that is not a parameter
