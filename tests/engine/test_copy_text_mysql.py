"""MariaDB sources: rows rendered as COPY text by the server, passed to the target unparsed.

The judge is the general path (Arrow batches rendered by the workbench): the same table
copied both ways must land identical cell for cell, with the same values counted as made
NULL, and validate. Values chosen to break a text rendering: every integer extreme, zerofill,
65-digit decimals, year 0000, early real dates, zero dates of each shape (PostgreSQL refuses
them: their partition falls back to the general path), fractions of seconds, TIMESTAMP in
UTC, tabs, newlines, carriage returns, backslashes, a literal \\N and 'NULL', trailing spaces
of CHAR, text in latin1 and UTF-16, collations mixed in one row, the ENUM error value, JSON
with escapes, UUID and INET6; rows with and without anything to escape.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.engine.helpers import mysql_tables
from workbench.connectors.mysql import MySQLConnector
from workbench.engine.run import CopyOptions, copy_database

AWKWARD = r"""
CREATE TABLE awkward (
  id int PRIMARY KEY,
  ti tinyint, tu tinyint unsigned, si smallint unsigned, mi mediumint, iu int unsigned,
  bi bigint, bu bigint unsigned, zf int(6) zerofill, flag tinyint(1),
  d0 decimal(65,30), d2 decimal(10,2), y year,
  d date, dt6 datetime(6), dt0 datetime, ts timestamp(3) NULL,
  ch char(5), vc varchar(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
  uc text COLLATE utf8mb4_unicode_ci, l1 varchar(20) CHARACTER SET latin1,
  u16 varchar(20) CHARACTER SET utf16, e enum('small', 'medium', 'large'),
  j json, u uuid, ip inet6
);
INSERT INTO awkward VALUES
 (1, -128, 255, 65535, -8388608, 4294967295, -9223372036854775808, 18446744073709551615, 42,
  1, -99999999999999999999999999999999999.999999999999999999999999999999, -0.5, 0,
  '1000-01-01', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:00',
  '2038-01-19 03:14:07.999', 'ab  ', 'tab\there\\N', 'new\nline\r\nback\\slash', 'café',
  'ünï 😀 utf16', 'medium', '{"a": "tab\\t", "b": [1, null, "é"]}',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '::1'),
 (2, 127, 0, 0, 8388607, 0, 9223372036854775807, 0, 0, 0,
  0.000000000000000000000000000001, 99999999.99, 2155, '0009-03-04', '0001-01-01 00:00:00',
  '1000-01-01 00:00:00', '1970-01-01 00:00:01', '', '\\N', 'NULL', '', '', 'bogus', '[]',
  '00000000-0000-0000-0000-000000000000', '2001:db8::ff00:42:8329'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO awkward (id, vc, uc, l1, u16, d2, d, ts)
  SELECT seq, CONCAT('row ', seq, IF(seq % 3 = 0, CHAR(9), ''), REPEAT('x', seq % 30)),
         IF(seq % 5 = 0, CONCAT('line', CHAR(10), seq, CHAR(92)), CONCAT('line ', seq)),
         IF(seq % 2 = 0, 'café', NULL), IF(seq % 7 = 0, CONCAT('ü', CHAR(13)), 'ü 😀'),
         seq / 7, '2020-01-01' + INTERVAL seq DAY, '2001-02-03 04:05:06' + INTERVAL seq SECOND
  FROM seq_4_to_1500;
UPDATE awkward SET d = '0000-00-00', dt6 = '2024-00-10 00:00:00', dt0 = '0000-00-00 00:00:00',
  ts = '0000-00-00 00:00:00' WHERE id = 1400;
"""


@pytest.fixture
def awkward_mysql(mysql_server) -> Iterator[str]:
    statements = [st for st in AWKWARD.split(";\n") if st.strip()]
    with mysql_tables(mysql_server, "wbmytext", *statements) as (_, url):
        yield url


def rows_as_text(url: str, schema: str, table: str) -> list[tuple]:
    """Every cell as PostgreSQL prints it (the row's own text: no Python conversion between)."""
    with psycopg.connect(url) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return conn.execute(f'SELECT r::text FROM "{schema}"."{table}" r ORDER BY id').fetchall()


@pytest.mark.local_cluster  # no shared cluster: a small job runs on threads of this process,
# where the general path is chosen below for the second copy
def test_every_awkward_value_lands_as_the_general_path_lands_it(
    awkward_mysql, target_url, store, monkeypatch
):
    fast = copy_database(awkward_mysql, target_url, CopyOptions(partition_rows=300), store=store)
    assert fast.status == "succeeded"
    assert fast.validated and fast.validation.ok
    ((name, stats),) = fast.tables.items()
    assert stats["partitions"] >= 4
    # the server rendered them all but the zero dates' partition: PostgreSQL refused its
    # COPY and the general path made them NULL and counted them
    assert stats["partitions_as_text"] == stats["partitions"] - 1
    assert stats["rows_written"] == 1500
    assert stats["nulled"] == {"d": 1, "dt6": 1, "dt0": 1, "ts": 1, "e": 1}

    monkeypatch.setattr(MySQLConnector, "can_copy_text", lambda self, table, fields: False)
    general = copy_database(
        awkward_mysql,
        target_url,
        CopyOptions(partition_rows=300, target_schema="general"),
        store=store,
    )
    assert general.status == "succeeded" and general.validated
    assert not general.tables[name].get("partitions_as_text")
    assert general.tables[name]["nulled"] == stats["nulled"]

    schema = name.split(".")[0]
    fast_rows = rows_as_text(target_url, schema, "awkward")
    assert len(fast_rows) == 1500
    assert fast_rows == rows_as_text(target_url, "general", "awkward")
    with psycopg.connect(target_url) as conn:  # and what the values are, not only equal
        one = conn.execute(
            f'SELECT bu, zf, y, ch, vc, uc, l1, u16, j, dt6, ts FROM "{schema}".awkward '
            "WHERE id = 1"
        ).fetchone()
    assert one[:3] == (18446744073709551615, 42, 0)
    assert one[3:8] == ("ab   ", "tab\there\\N", "new\nline\r\nback\\slash", "café", "ünï 😀 utf16")
    assert one[8] == {"a": "tab\t", "b": [1, None, "é"]}
    assert str(one[9]) == "9999-12-31 23:59:59.999999"
    assert one[10].isoformat() == "2038-01-19T03:14:07.999000+00:00"


def test_a_row_the_target_refuses_falls_back_and_is_quarantined(mysql_server, target_url, store):
    with mysql_tables(
        mysql_server,
        "wbmyrefuse",
        "CREATE TABLE flags (id int PRIMARY KEY, flag tinyint(1), note text)",
        "INSERT INTO flags SELECT seq, seq % 2, CONCAT('n', seq) FROM seq_1_to_1200",
        "UPDATE flags SET flag = 2 WHERE id = 700",  # no boolean reads 2
    ) as (name, url):
        result = copy_database(
            url, target_url, CopyOptions(workers=2, partition_rows=300), store=store
        )
        stats = result.tables[f"{name}.flags"]
        assert result.status == "succeeded" and result.validated
        assert stats["rows_written"] == 1199 and stats["rows_quarantined"] == 1
        # only the refusing row's partition took the general path
        assert stats["partitions_as_text"] == stats["partitions"] - 1
        with psycopg.connect(target_url) as conn:
            assert conn.execute(f'SELECT count(*) FROM "{name}".flags WHERE flag').fetchone() == (
                600,
            )


def test_a_column_without_an_exact_text_keeps_the_table_on_the_general_path(
    mysql_server, target_url, store
):
    with mysql_tables(
        mysql_server,
        "wbmyfloat",
        # MariaDB prints a FLOAT with 6 digits: its text is not its value
        "CREATE TABLE m (id int PRIMARY KEY, x float, b blob)",
        "INSERT INTO m VALUES (1, 3.14159274, X'00FF'), (2, 1e-30, NULL)",
    ) as (name, url):
        result = copy_database(url, target_url, CopyOptions(), store=store)
        assert result.status == "succeeded" and result.validated
        assert not result.tables[f"{name}.m"].get("partitions_as_text")
        with psycopg.connect(target_url) as conn:
            x = conn.execute(f'SELECT x FROM "{name}".m WHERE id = 1').fetchone()[0]
        assert x == pytest.approx(3.14159274, rel=1e-7)  # all of the float, not '3.14159'


def test_a_line_longer_than_the_servers_packet_limit_falls_back(mysql_server, target_url, store):
    """8.5 million backslashes read as one 8.5 MB value, but escaped they make a 17 MB line,
    over MariaDB's max_allowed_packet (16 MB here): the escape returns NULL with a warning,
    and so does the line (never the field as \\N: that would load a NULL). That partition
    takes the general path; nothing is lost and the copy validates."""
    with mysql_tables(
        mysql_server,
        "wbmylong",
        # one collation: the line takes the text as it is, without CAST
        "CREATE TABLE notes (id int PRIMARY KEY, title varchar(40), body longtext)",
        "INSERT INTO notes SELECT seq, CONCAT('título ', seq), CONCAT('note ', seq)"
        " FROM seq_1_to_900",
        "UPDATE notes SET title = CONCAT('é', CHAR(9), '😀', CHAR(92)),"
        " body = REPEAT(CONCAT('ü', CHAR(10), '中'), 1000) WHERE id = 200",
        "UPDATE notes SET body = REPEAT(CHAR(92), 8500000) WHERE id = 450",
        # 200,000 escapes in one 300 kB value: MariaDB's REPLACE took 22 s for such a value
        # (quadratic in its matches); long values are escaped by REGEXP_REPLACE, in one pass
        "UPDATE notes SET body = REPEAT(CONCAT('a', CHAR(9), 'b', CHAR(10), CHAR(13), CHAR(92)),"
        " 50000) WHERE id = 100",
    ) as (name, url):
        result = copy_database(url, target_url, CopyOptions(partition_rows=300), store=store)
        stats = result.tables[f"{name}.notes"]
        assert result.status == "succeeded" and result.validated
        assert stats["rows_written"] == 900 and not stats.get("rows_quarantined")
        assert stats["partitions_as_text"] == stats["partitions"] - 1
        with psycopg.connect(target_url) as conn:
            body = conn.execute(f'SELECT body FROM "{name}".notes WHERE id = 450').fetchone()[0]
            mixed = conn.execute(f'SELECT body FROM "{name}".notes WHERE id = 100').fetchone()[0]
            other = conn.execute(
                f'SELECT title, body FROM "{name}".notes WHERE id = 200'
            ).fetchone()
            plain = conn.execute(f'SELECT title, body FROM "{name}".notes WHERE id = 7').fetchone()
        assert body == "\\" * 8_500_000
        assert other == ("é\t😀\\", "ü\n中" * 1000) and plain == ("título 7", "note 7")
        assert mixed == "a\tb\n\r\\" * 50_000


@pytest.mark.local_cluster  # the line query is replaced in this process (threads, no cluster)
def test_a_line_query_the_server_refuses_falls_back_to_the_general_path(
    mysql_server, target_url, store, monkeypatch
):
    """A server whose SQL differs (another MySQL, a missing function) refuses the line query
    itself: the job reads those tables the general way instead of failing."""
    from workbench.connectors import mysql as mysql_connector

    real = mysql_connector.line_select

    def with_a_function_this_server_lacks(columns, fields):  # type: ignore[no-untyped-def]
        select = real(columns, fields)
        if select is None:
            return None
        return "NO_SUCH_FUNCTION(" + select.replace(" AS wb_line", ") AS wb_line", 1)

    monkeypatch.setattr(mysql_connector, "line_select", with_a_function_this_server_lacks)
    with mysql_tables(
        mysql_server,
        "wbmyrefusedsql",
        "CREATE TABLE t (id int PRIMARY KEY, note varchar(20))",
        "INSERT INTO t SELECT seq, CONCAT('n', seq) FROM seq_1_to_1000",
    ) as (name, url):
        result = copy_database(url, target_url, CopyOptions(partition_rows=300), store=store)
        stats = result.tables[f"{name}.t"]
        assert result.status == "succeeded" and result.validated
        assert stats["rows_written"] == 1000 and not stats.get("partitions_as_text")
