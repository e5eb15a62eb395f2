"""A target database that is not UTF-8 (LATIN1): values land as the same characters, one it
cannot hold is refused by name, and the validation compares characters, not the server's bytes.

Found on a LATIN1 target: MariaDB's COPY text (UTF-8 bytes) was stored byte for byte, 'café'
as 'cafÃ©', and the validation said yes: PostgreSQL's md5(text) hashed the LATIN1 bytes of
'cafÃ©', which are the UTF-8 bytes of 'café' that the source hashed.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.engine.helpers import mysql_tables
from workbench.engine.repair import validate_job
from workbench.engine.run import CopyOptions, copy_database

WORDS = ["café", "Ærøskøbing", "naïve\ttab", "back\\slash", "ÿ¡¿ß", "plain"]


@pytest.fixture
def latin1_target(pg_server) -> Iterator[str]:
    name = f"wblatin1_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        conn.execute(
            f"CREATE DATABASE {name} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'"
            " TEMPLATE template0"
        )
    yield pg_server.url(name)
    pg_server.drop_database(name)


def landed(url: str, schema: str) -> list[tuple[int, str]]:
    with psycopg.connect(url, client_encoding="UTF8") as conn:
        return conn.execute(f'SELECT id, w FROM "{schema}".words ORDER BY id').fetchall()


def expected(n: int) -> list[tuple[int, str]]:
    return [(i, WORDS[i % len(WORDS)]) for i in range(1, n + 1)]


def test_mariadb_text_lands_as_characters_and_validates(mysql_server, latin1_target, store):
    with mysql_tables(
        mysql_server,
        "wbenc",
        "CREATE TABLE words (id int PRIMARY KEY, w varchar(40)) CHARACTER SET utf8mb4",
        "INSERT INTO words SELECT seq, ELT(1 + seq % 6, "
        + ", ".join("'" + w.replace("\\", "\\\\").replace("\t", "\\t") + "'" for w in WORDS)
        + ") FROM seq_1_to_900",
    ) as (name, url):
        result = copy_database(url, latin1_target, CopyOptions(partition_rows=300), store=store)
        stats = result.tables[f"{name}.words"]
        assert result.status == "succeeded" and result.validated and result.validation.ok
        assert stats["partitions_as_text"] == stats["partitions"] >= 3  # the server's text
        assert landed(latin1_target, name) == expected(900)

        # the bytes of UTF-8's 'café' stored as LATIN1 characters: the validation must see it
        with psycopg.connect(latin1_target, client_encoding="UTF8", autocommit=True) as conn:
            conn.execute(
                f"UPDATE \"{name}\".words SET w = convert_from(convert_to(w, 'UTF8'), 'LATIN1')"
                " WHERE id = 1"
            )
            (mangled,) = conn.execute(f'SELECT w FROM "{name}".words WHERE id = 1').fetchone()
        assert mangled == "Ærøskøbing".encode().decode("latin-1")
        report = validate_job(result.job_id, store=store)
        assert not report.ok
        (table,) = report.mismatched
        assert "in column(s) w" in " ".join(table.reasons), table.reasons


def test_a_character_latin1_cannot_hold_is_refused_and_named(tmp_path, latin1_target, store):
    db = tmp_path / "words.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE words (id INTEGER PRIMARY KEY, w TEXT)")
    conn.executemany("INSERT INTO words VALUES (?, ?)", expected(600))
    conn.execute("UPDATE words SET w = 'price in €' WHERE id = 77")  # no € in LATIN1
    conn.commit()
    conn.close()
    result = copy_database(f"sqlite:///{db}", latin1_target, CopyOptions(), store=store)
    stats = result.tables["words"]
    assert stats["rows_written"] == 599 and stats["rows_quarantined"] == 1
    rows = dict(landed(latin1_target, "public"))
    assert 77 not in rows and rows == dict(r for r in expected(600) if r[0] != 77)
    with psycopg.connect(latin1_target, client_encoding="UTF8") as c:
        ((key, row, error),) = c.execute(
            "SELECT source_key, row_data, error FROM _workbench.quarantine"
        )
    assert key == {"id": 77} and "LATIN1" in error, error
    # the row is kept, its € escaped (the database cannot hold the character itself)
    assert json.loads(row["json_ascii"]) == {"id": 77, "w": "price in €"}
