"""PostgreSQL sources: rows of the target's own types pass through as COPY text, unparsed.

The fast path must be exact for every awkward value (compared with the source cell by cell,
as text), must leave the general path to tables it cannot serve (a masked column), and a row
the target refuses must still be isolated and quarantined, never lose its partition.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from workbench.engine.run import CopyOptions, copy_database

AWKWARD = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE awkward (
    id int PRIMARY KEY, txt text, vc varchar(20), ch char(4), bin bytea, nums int[],
    words text[], doc jsonb, at timestamptz, ts timestamp, d date, span interval,
    amount numeric(30, 10), wide numeric, f8 double precision, f4 real, flag boolean,
    u uuid, addr inet, feeling mood, t time
);
INSERT INTO awkward VALUES
 (1, E'tab\\there', 'x', 'ab', '\\x00ff5c0a', '{1,NULL,3}', '{"a b","c\\"d",NULL,"e\\\\f"}',
  '{"k": [1, "two", null]}', '2024-02-29 23:59:59.999999+05:30', '1999-12-31 23:59:59',
  '0001-01-01', '1 year 2 mons -3 days 04:05:06.7', 12345678901234567890.0123456789, 'NaN',
  'Infinity', '-0', true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.0.1/24', 'happy',
  '23:59:59.999999'),
 (2, E'line\\nbreak\\rreturn\\\\backslash', '', '', '', '{}', '{}', '[]', '-infinity',
  'infinity', 'infinity', '-178000000 years', -0.0000000001, 1e-300, -1e308, 3.4028235e38,
  false, NULL, '::1', 'sad', '00:00'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL),
 (4, 'ünïcödé ✓ 𝄞 "quoted" ''single''', 'comma, semicolon;', 'é', '\\x5c4e', '{-2147483648}',
  '{"\\\\N",""}', '{"nested": {"deep": "\\u00e9"}}', '1970-01-01 00:00:00+00',
  '2038-01-19 03:14:08', '1970-01-01', '0', 0, 1e-20, 2.2250738585072014e-308, 1.17549435e-38,
  NULL, '00000000-0000-0000-0000-000000000000', '10.0.0.0/8', 'ok', '12:00');
INSERT INTO awkward (id, txt, amount, f8)
  SELECT i, 'row ' || i || E'\\t' || repeat('x', i % 50), i / 7.0, i / 3.0
  FROM generate_series(5, 3000) i;
ANALYZE awkward;
"""


@pytest.fixture
def awkward_source(pg_server) -> Iterator[str]:
    name = pg_server.create_database("wbtext")
    url = pg_server.url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(AWKWARD)
    try:
        yield url
    finally:
        pg_server.drop_database(name)


def as_text(url: str, table: str) -> list[tuple]:
    """Every cell as PostgreSQL prints it (exact: no Python conversion between)."""
    with psycopg.connect(url) as conn:
        conn.execute("SET TimeZone = 'UTC'; SET extra_float_digits = 3")
        return conn.execute(
            f"SELECT r::text FROM {table} r ORDER BY id"  # the row's own text, every column
        ).fetchall()


def test_every_awkward_value_passes_exactly(awkward_source, target_url, store):
    options = CopyOptions(workers=2, partition_rows=700)
    result = copy_database(awkward_source, target_url, options, store=store)
    assert result.status == "succeeded"
    assert result.validated and result.validation.ok
    table = result.tables["public.awkward"]
    assert table["partitions"] >= 4
    assert table["partitions_as_text"] == table["partitions"]  # the fast path served them all
    assert table["rows_written"] == 3000
    assert as_text(target_url, "awkward") == as_text(awkward_source, "awkward")


def test_a_masked_column_takes_the_general_path(awkward_source, target_url, store):
    options = CopyOptions(
        workers=2,
        partition_rows=700,
        transforms={"awkward": {"txt": {"mask": {"kind": "redact"}}}},
    )
    result = copy_database(awkward_source, target_url, options, store=store)
    assert result.status == "succeeded"
    table = result.tables["public.awkward"]
    assert "partitions_as_text" not in table
    with psycopg.connect(target_url) as conn:
        texts = {r[0] for r in conn.execute("SELECT txt FROM awkward WHERE id > 4")}
    assert not any(t and t.startswith("row ") for t in texts)  # masked, not passed through


def test_a_row_the_target_refuses_is_quarantined_and_the_rest_land(
    awkward_source, target_url, store
):
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
        conn.execute(
            "CREATE TABLE awkward (id int PRIMARY KEY, txt text, vc varchar(20),"
            " ch char(4), bin bytea, nums int[], words text[], doc jsonb, at timestamptz,"
            " ts timestamp, d date, span interval, amount numeric(30, 10), wide numeric,"
            " f8 double precision, f4 real, flag boolean, u uuid, addr inet, feeling mood,"
            " t time, CHECK (id <> 1234))"  # the target's own rule refuses one row
        )
    options = CopyOptions(workers=2, partition_rows=700, if_exists="append")
    result = copy_database(awkward_source, target_url, options, store=store)
    assert result.status == "succeeded"
    table = result.tables["public.awkward"]
    assert table["rows_quarantined"] == 1
    assert table["rows_written"] == 2999
    # the refused row's partition went the general way; the others stayed on the fast path
    assert table["partitions_as_text"] == table["partitions"] - 1
    with psycopg.connect(target_url) as conn:
        quarantined = conn.execute(
            "SELECT source_key, error FROM _workbench.quarantine"
            " WHERE table_name = 'public.awkward'"
        ).fetchall()
    assert len(quarantined) == 1
    assert quarantined[0][0] == {"id": 1234}
    assert "check constraint" in quarantined[0][1]
    expected = [r for r in as_text(awkward_source, "awkward") if not r[0].startswith("(1234,")]
    assert as_text(target_url, "awkward") == expected
