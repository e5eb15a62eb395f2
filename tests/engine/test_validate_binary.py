"""PostgreSQL -> PostgreSQL validation by the values' binary hashes (no text rendered).

A copy between two PostgreSQL servers that hash alike checks its rows with
``hash_record_extended``; these tests plant one difference of each kind in the target after
a copy and expect each to be found and its column named, as the text checksum finds them:
the hash must not be blind where the text is not (1.5 against 1.50, '1 day' against
'24 hours', one column's values swapped between two rows; text is hashed under COLLATE "C",
as a case-insensitive collation would hash case alike).
"""

from __future__ import annotations

import psycopg
import pytest

from workbench.connectors import connect
from workbench.connectors.checksums import ChecksumColumn, binary_hash_agrees, checksum_select
from workbench.engine.repair import validate_job
from workbench.engine.run import CopyOptions, copy_database
from workbench.engine.validate import ValidationSides

TABLE = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE every (
  id integer PRIMARY KEY, s smallint, b bigint, flag boolean, d date, ts timestamp,
  tz timestamptz, t time, name text, code varchar(12), pad char(6), raw bytea, u uuid,
  price numeric(12, 2), n numeric, iv interval, m mood, tags text[], doc jsonb, r real
);
INSERT INTO every
SELECT i, (i % 300)::smallint, i * 1000003::bigint, i % 2 = 0, date '2024-01-01' + i,
       timestamp '2024-01-01 00:00:00.000001' + i * interval '1 minute 1.5 second',
       timestamptz '2024-01-01 00:00:00+05:30' + i * interval '1 hour',
       time '00:00:00' + i * interval '1 second', 'Name ' || i, 'c' || i, 'p' || (i % 9),
       decode(lpad(to_hex(i), 8, '0'), 'hex'), md5(i::text)::uuid, i * 1.25, i / 8.0,
       i * interval '1 day', (ARRAY['sad', 'ok', 'happy'])[1 + i % 3]::mood,
       ARRAY['a' || i, NULL], jsonb_build_object('i', i), i / 3.0
FROM generate_series(1, 3000) i;
"""

# (what is planted in the target, the column it must be named in)
PLANTED = [
    ("UPDATE every SET s = s + 1 WHERE id = 10", "s"),
    ("UPDATE every SET b = b - 1 WHERE id = 2999", "b"),
    ("UPDATE every SET flag = NOT flag WHERE id = 5", "flag"),
    ("UPDATE every SET d = d + 1 WHERE id = 6", "d"),
    ("UPDATE every SET ts = ts + interval '1 microsecond' WHERE id = 7", "ts"),
    ("UPDATE every SET tz = tz + interval '1 microsecond' WHERE id = 8", "tz"),
    ("UPDATE every SET t = t + interval '1 microsecond' WHERE id = 9", "t"),
    ("UPDATE every SET name = 'NAME 11' WHERE id = 11", "name"),
    ("UPDATE every SET code = 'c12 ' WHERE id = 12", "code"),
    ("UPDATE every SET pad = 'P3' WHERE id = 13", "pad"),
    ("UPDATE every SET raw = raw || '\\x00'::bytea WHERE id = 14", "raw"),
    ("UPDATE every SET u = md5('x')::uuid WHERE id = 15", "u"),
    ("UPDATE every SET price = price + 0.01 WHERE id = 16", "price"),
    ("UPDATE every SET n = 2.50 WHERE id = 20", "n"),  # source 2.5: equal value, other text
    ("UPDATE every SET iv = interval '24 hours' WHERE id = 1", "iv"),  # source '1 day'
    ("UPDATE every SET m = 'sad' WHERE id = 1", "m"),  # source 'ok'
    ("UPDATE every SET tags = ARRAY['a17', ''] WHERE id = 17", "tags"),
    ("UPDATE every SET name = NULL WHERE id = 18", "name"),
]


@pytest.fixture
def copied_every(pg_database, target_url, store):
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(TABLE)
    result = copy_database(
        pg_database, target_url, CopyOptions(workers=2, partition_rows=1000), store=store
    )
    assert result.status == "succeeded" and result.validated and result.validation.ok
    return result


def test_postgres_servers_hash_alike_and_the_validation_uses_it(pg_database, target_url):
    source, target = connect(pg_database), connect(target_url)
    try:
        assert binary_hash_agrees(source, target)
    finally:
        source.close()
        target.close()
    assert ValidationSides(pg_database, target_url, 10).binary
    select, _ = checksum_select(
        "postgresql",
        "postgresql",
        [
            ChecksumColumn("a", '"a"', "int", same_type=True),
            ChecksumColumn("n", '"n"', "numeric", same_type=True),
            ChecksumColumn("t", '"t"', "text", same_type=True),
        ],
        {"a": "integer", "n": "numeric", "t": "character varying(20)"},
        binary=True,
    )
    assert "hashint4extended" in select and "hashtextextended" in select and "md5" not in select
    assert '(("a")::integer)' in select and '("n")::text' in select  # numeric: as text
    # text compared byte for byte: a case-insensitive (ICU) collation would hash case alike
    assert '(("t")::character varying(20)) COLLATE "C"' in select


@pytest.mark.slow
def test_each_planted_difference_is_found_and_named(copied_every, target_url, store):
    job = copied_every.job_id
    for statement, column in PLANTED:
        with psycopg.connect(target_url, autocommit=True) as conn:
            conn.execute("SET search_path = public")
            conn.execute(statement)
        report = validate_job(job, store=store)
        assert not report.ok, statement
        (table,) = report.mismatched
        assert len(table.mismatched_partitions) == 1, (statement, table.reasons)
        assert f"in column(s) {column}" in " ".join(table.reasons), (statement, table.reasons)
        assert validate_job(job, store=store, repair=True).ok, statement


def test_a_column_swapped_between_rows_is_found(copied_every, target_url, store):
    """Each column's hashes summed alone would be unchanged by a swap (and a row hash that
    combines them linearly only shows it through a carry, half of the time): one swap in each
    partition, each partition named."""
    pairs = [(21, 22), (1021, 1522), (2021, 2999)]
    with psycopg.connect(target_url, autocommit=True) as conn:
        for a, b in pairs:
            conn.execute(
                "UPDATE public.every e SET name = o.name FROM public.every o"
                " WHERE (e.id, o.id) IN ((%s, %s), (%s, %s))",
                (a, b, b, a),
            )
        swapped = conn.execute("SELECT name FROM public.every WHERE id = 21").fetchone()
    assert swapped == ("Name 22",)
    report = validate_job(copied_every.job_id, store=store)
    assert not report.ok
    (table,) = report.mismatched
    assert len(table.mismatched_partitions) == len(pairs), table.reasons


def test_an_append_into_a_column_of_another_type_validates_and_is_checked(
    pg_database, target_url, store
):
    """The plan's types are the source's; the table appended into holds another type (text
    read into integer). Both sides hash the plan's type, as the text checksum compared both
    sides' text: no false mismatch, and a changed value is still found."""
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE codes (id int PRIMARY KEY, code text, label varchar(10))")
        conn.execute("INSERT INTO codes SELECT i, i::text, 'l' || i FROM generate_series(1, 500) i")
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE codes (id bigint PRIMARY KEY, code integer, label text)")
    options = CopyOptions(workers=1, if_exists="append")
    result = copy_database(pg_database, target_url, options, store=store)
    assert result.validated and result.validation.ok
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("UPDATE public.codes SET code = 7000 WHERE id = 7")
    report = validate_job(result.job_id, store=store)
    assert not report.ok and "in column(s) code" in " ".join(report.mismatched[0].reasons)


def test_dates_beyond_timestamps_and_nulls_are_hashed_and_checked(pg_database, target_url, store):
    """A date is hashed as its midnight's timestamp, except where no timestamp reaches
    (+infinity, years past 294276): those and NULL each hash as themselves."""
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE days (id int PRIMARY KEY, d date, n int)")
        conn.execute(
            "INSERT INTO days VALUES (1, 'infinity', 1), (2, '-infinity', NULL),"
            " (3, '300000-01-01', 3), (4, NULL, 4), (5, '4713-01-01 BC', 5), (6, '2024-02-29', 6)"
        )
    result = copy_database(pg_database, target_url, CopyOptions(workers=1), store=store)
    assert result.validated and result.validation.ok
    assert ValidationSides(pg_database, target_url, 10).binary
    for statement, column in [
        ("UPDATE public.days SET d = '300001-01-01' WHERE id = 3", "d"),
        ("UPDATE public.days SET d = '300000-01-01' WHERE id = 1", "d"),  # was infinity
        ("UPDATE public.days SET d = '2024-01-01' WHERE id = 4", "d"),  # was NULL
        ("UPDATE public.days SET n = 0 WHERE id = 2", "n"),  # was NULL
    ]:
        with psycopg.connect(target_url, autocommit=True) as conn:
            conn.execute(statement)
        report = validate_job(result.job_id, store=store)
        assert not report.ok, statement
        assert f"in column(s) {column}" in " ".join(report.mismatched[0].reasons), statement
        assert validate_job(result.job_id, store=store, repair=True).ok, statement
