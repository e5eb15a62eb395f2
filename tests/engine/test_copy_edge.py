"""The connectors' edge-case schemas (every row of the type map) copied and validated."""

from __future__ import annotations

import datetime as dt
import decimal
from types import SimpleNamespace

import psycopg
import pytest
from sqlalchemy.engine import make_url

from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import IncompleteJobError
from workbench.store import jobs


def fetch(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_mysql_edge_cases_copied_exactly(mysql_edge, target_url, store):
    result = copy_database(mysql_edge, target_url, CopyOptions(workers=1), store=store)
    assert result.status == "succeeded" and result.validated, result.validation
    db = make_url(mysql_edge).database
    rows = fetch(
        target_url,
        f'SELECT id, "Größe", biu, d65, f, dbl, b12::text, y, d, dt, t, vc,'
        f' bn, s, e, j, p, dz, ti1 FROM "{db}"."select" ORDER BY id',
    )
    one, two, three = rows
    assert one[1] == "größe 😀" and one[2] == decimal.Decimal("18446744073709551615")
    assert one[3] == decimal.Decimal(
        "99999999999999999999999999999999999.999999999999999999999999999999"
    )
    assert two[3] == decimal.Decimal("-0.000000000000000000000000000001")
    assert (one[4], one[5]) == (1.5, 2.5e300)
    assert one[6] == "101010101010" and one[7] == 2155
    assert one[8] is None and one[9] is None  # zero dates -> NULL
    assert two[8] == dt.date(9, 3, 4)  # an early real date stays
    assert two[9] == dt.datetime(9, 3, 4, 5, 6, 7, 123456)
    assert one[10] == dt.timedelta(hours=838, minutes=59, seconds=59)  # time > 24 h
    assert two[10] == -dt.timedelta(seconds=1)
    assert one[11] == "café" and two[11] == ""  # latin1 text arrives as UTF-8
    assert bytes(one[12]) == b"\x00\xff\x00\x01"
    assert one[13] == ["x", "z"] and two[13] == []  # set -> text[]
    assert one[14] == "it's" and one[15] == {"a": [1, "é"]}
    assert bytes(one[16])[:1] in (b"\x01", b"\x00")  # WKB
    assert one[17] is None and one[18] is True and three[18] is None
    child = fetch(
        target_url, f'SELECT "ChildID", select_id, note FROM "{db}"."Child Table" ORDER BY 1'
    )
    assert child == [(1, 1, "one"), (2, 2, "two"), (3, 3, None)]


def test_postgres_edge_cases_copied_exactly(pg_edge, target_url, store):
    result = copy_database(pg_edge, target_url, CopyOptions(workers=1), store=store)
    assert result.status == "succeeded" and result.validated, result.validation
    # whole rows as PostgreSQL prints them (-infinity and NaN do not fit Python types)
    query = 'SELECT o::text FROM "Sales Ünits"."Order" o ORDER BY "ID"'
    source, target = fetch(pg_edge, query), fetch(target_url, query)
    assert len(source) == 2 and source == target
    assert fetch(pg_edge, 'SELECT * FROM "Sales Ünits".line ORDER BY id') == fetch(
        target_url, 'SELECT * FROM "Sales Ünits".line ORDER BY id'
    )


def test_sqlite_edge_cases_copied_or_quarantined(sqlite_edge, target_url, store):
    # row 2 of "select" is quarantined, and a child row points at it: the foreign key cannot
    # be built, so the job ends incomplete (not "succeeded" with a warning), naming the key
    with pytest.raises(IncompleteJobError) as caught:
        copy_database(sqlite_edge, target_url, CopyOptions(workers=1), store=store)
    assert [o["object"] for o in caught.value.fields["objects"]] == [
        'foreign key "child_fkey" on "public"."child"'
    ]
    job = jobs.get_job(store, caught.value.fields["job_id"])
    assert job.status == "incomplete" and job.statistics["validated"]
    result = SimpleNamespace(**{k: job.statistics[k] for k in ("rows_copied", "rows_quarantined",
                                                                 "rows_read")})  # fmt: skip
    assert result.rows_copied + result.rows_quarantined == result.rows_read == 5
    # row 2 holds 'n/a' in NUMERIC and 'many' in INT NOT NULL: it must be quarantined
    assert result.rows_quarantined >= 1
    with psycopg.connect(target_url) as conn:
        bad = conn.execute("SELECT source_key, error FROM _workbench.quarantine").fetchall()
    assert {k["id"] for k, _ in bad} == {2}
