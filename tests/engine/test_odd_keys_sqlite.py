"""SQLite keys holding values of another storage class: the rows that fit arrive, once.

SQLite keeps what a row is given: an INTEGER key may hold texts ('x3' sorts after every
number there). Planning read the key's MIN and MAX as integers and the job failed
("invalid literal for int()"); past that, the target's checksum ranges compared its bigint
column with the text bounds, and the quarantined rows' keys, which the reader could not read
as integers, were recorded as null and left every row out of the source's count. The rows
with texts go to quarantine, the others are copied, and validation compares what it can
(counts where quarantined rows have no usable key).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg

from workbench.engine.run import CopyOptions, copy_database

N = 600


def test_texts_in_an_integer_key_are_quarantined_and_the_rest_validated(
    tmp_path: Path, target_url, store
):
    path = tmp_path / "mixed.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE ids (k INTEGER NOT NULL UNIQUE, v INT)")
        conn.executemany(
            "INSERT INTO ids VALUES (?, ?)", [(f"x{i}" if i % 3 == 0 else i, i) for i in range(N)]
        )
    result = copy_database(
        f"sqlite:///{path}", target_url, CopyOptions(workers=2, partition_rows=100), store=store
    )
    assert result.status == "succeeded" and result.validated, result.validation
    table = result.tables["ids"]
    assert table["partitions"] >= 4
    assert table["rows_quarantined"] == N // 3
    with psycopg.connect(target_url) as conn:
        landed = sorted(conn.execute("SELECT k, v FROM public.ids").fetchall())
    assert landed == [(i, i) for i in range(N) if i % 3]


def test_booleans_stored_as_words_land_as_booleans(tmp_path: Path, target_url, store):
    """SQLite applications store booleans as 1/0 and as the words PostgreSQL's boolean input
    takes ('true', 'no', ' ON ', 't'): every row with a word was quarantined ("not a int64
    value"). The words land as booleans, validated; a value that is no boolean is quarantined."""
    forms = {
        True: [1, 1.0, "1", "true", "TRUE", " yes ", "Y", "on", "t"],
        False: [0, 0.0, "0", "false", "No", "n", "OFF", "f", "F"],
    }
    rows = [(v, b) for b, values in forms.items() for v in values] + [(None, None)]
    path = tmp_path / "flags.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE flags (id INTEGER PRIMARY KEY, ok BOOLEAN, expect INT)")
        conn.executemany(
            "INSERT INTO flags (ok, expect) VALUES (?, ?)",
            [(v, None if b is None else int(b)) for v, b in rows] + [("maybe", 9), (2, 9)],
        )
    result = copy_database(
        f"sqlite:///{path}", target_url, CopyOptions(workers=2, partition_rows=5), store=store
    )
    assert result.status == "succeeded" and result.validated, result.validation
    assert result.tables["flags"]["rows_quarantined"] == 2  # 'maybe' and 2
    with psycopg.connect(target_url) as conn:
        landed = conn.execute("SELECT ok, expect FROM public.flags ORDER BY id").fetchall()
    assert landed == [(b, None if b is None else int(b)) for _, b in rows]
