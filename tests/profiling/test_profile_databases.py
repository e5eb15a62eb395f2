"""Profiles of real Sakila (MariaDB, PostgreSQL) and Chinook (SQLite) tables checked against
facts computed independently with plain SQL."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal

import psycopg
import pymysql
import pytest
from sqlalchemy.engine import make_url

from workbench.profiling import ProfileOptions, profile_table


def mysql_facts(url: str, sql: str):
    u = make_url(url)
    conn = pymysql.connect(
        host=u.host, port=u.port or 3306, user=u.username, password=u.password or "",
        database=u.database,
    )  # fmt: skip
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchone()
    finally:
        conn.close()


def pg_facts(url: str, sql: str):
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()


def _same(a, b) -> bool:
    if isinstance(a, float | Decimal) or isinstance(b, float | Decimal):
        return abs(float(a) - float(b)) < 1e-6
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a.replace(tzinfo=None) == b.replace(tzinfo=None)
    return a == b


# (table, column, fact SQL giving nulls, distinct, min, max) on both Sakila servers
FACTS = [
    ("payment", "amount"),
    ("payment", "payment_date"),
    ("rental", "return_date"),
    ("customer", "email"),
    ("address", "address2"),
]


@pytest.mark.parametrize("server", ["mysql", "postgresql"])
def test_sakila_profiles_match_plain_sql(server, sakila_mysql, sakila_pg, connector_for):
    url = sakila_mysql if server == "mysql" else sakila_pg
    facts = mysql_facts if server == "mysql" else pg_facts
    conn = connector_for(url)
    profiles = {}
    for table, column in FACTS:
        if table not in profiles:
            profiles[table] = profile_table(conn, table)
        col = profiles[table].column(column)
        bounds = (
            "NULL, NULL" if column in ("email", "address2") else f"MIN({column}), MAX({column})"
        )
        nulls, distinct, lo, hi, rows = facts(
            url,
            f"SELECT COUNT(*) - COUNT({column}), COUNT(DISTINCT {column}), {bounds}, "
            f"COUNT(*) FROM {table}",
        )
        assert (col.rows, col.nulls, col.distinct) == (rows, nulls, distinct), (table, column)
        assert col.distinct_method == "exact"
        if lo is not None:
            assert _same(col.min, lo) and _same(col.max, hi), (table, column, col.min, lo)
    amount = profiles["payment"].column("amount")
    mean, std = facts(url, "SELECT AVG(amount), STDDEV_SAMP(amount) FROM payment")
    assert abs(amount.mean - float(mean)) < 1e-6 and abs(amount.stddev - float(std)) < 1e-6
    assert amount.quantiles["p50"] == pytest.approx(
        float(facts(url, "SELECT amount FROM payment ORDER BY amount LIMIT 1 OFFSET 8024")[0]),
        abs=1,
    )
    email = profiles["customer"].column("email")
    assert email.semantic == "email" and email.semantic_share == 1.0 and "contact" in email.pii
    assert email.pattern and "@" in email.pattern
    assert profiles["customer"].column("first_name").semantic == "person_name"
    assert profiles["customer"].quality.score is not None
    assert any("completeness" in r for r in profiles["address"].column("address2").quality.rules)


def test_chinook_semantics_and_quality(chinook_sqlite, connector_for):
    conn = connector_for(chinook_sqlite)
    customer = profile_table(conn, "Customer")
    phone = customer.column("Phone")
    assert phone.semantic == "phone" and phone.semantic_share >= 0.95 and "contact" in phone.pii
    assert customer.column("Email").semantic == "email"
    assert customer.column("PostalCode").semantic == "postal_code"
    assert customer.column("CustomerId").quality.dimensions["uniqueness"] == 1.0
    assert customer.column("SupportRepId").orphans == 0
    db = sqlite3.connect(make_url(chinook_sqlite).database)
    nulls, distinct = db.execute(
        'SELECT COUNT(*) - COUNT("Company"), COUNT(DISTINCT "Company") FROM "Customer"'
    ).fetchone()
    company = customer.column("Company")
    assert (company.nulls, company.distinct) == (nulls, distinct)
    assert company.quality.dimensions["completeness"] == pytest.approx(1 - nulls / 59, abs=1e-3)
    # the weights are shown next to the score
    assert any("weighted mean" in r for r in company.quality.rules)
    track = profile_table(conn, "Track")
    ms = track.column("Milliseconds")
    lo, hi, avg = db.execute(
        'SELECT MIN("Milliseconds"), MAX("Milliseconds"), AVG("Milliseconds") FROM "Track"'
    ).fetchone()
    assert (ms.min, ms.max) == (lo, hi) and ms.mean == pytest.approx(avg)
    assert ms.stddev is not None and ms.stddev > 0 and len(ms.histogram) == 10
    assert sum(h[2] for h in ms.histogram) == track.rows
    assert track.column("Name").top and track.column("Name").length["max"] > 0


def test_sqlite_type_mismatch_lowers_validity(chinook_copy, connector_for):
    path = make_url(chinook_copy).database
    db = sqlite3.connect(path)
    db.execute('UPDATE "Track" SET "Milliseconds" = \'long\' WHERE "TrackId" <= 10')
    db.commit()
    db.close()
    ms = profile_table(connector_for(chinook_copy), "Track").column("Milliseconds")
    assert ms.invalid == 10
    assert ms.quality.dimensions["validity"] < 1.0
    assert any("break the declared type" in r for r in ms.quality.rules)


def test_pg_tablesample_and_hyperloglog(sakila_pg, connector_for):
    conn = connector_for(sakila_pg)
    options = ProfileOptions(sample_size=1000, exact_distinct_rows=0, fingerprint_exact_rows=0)
    rental = profile_table(conn, "rental", options)
    assert rental.sample_method == "tablesample bernoulli"
    assert 800 <= rental.sample_rows <= 1000 and rental.sample_size == 1000
    for column in ("rental_id", "inventory_id", "customer_id", "rental_date"):
        col = rental.column(column)
        exact = pg_facts(sakila_pg, f"SELECT COUNT(DISTINCT {column}) FROM rental")[0]
        assert col.distinct_method == "approximate (hyperloglog)"
        assert abs(col.distinct - exact) <= 0.1 * exact, (column, col.distinct, exact)
        assert "top" in col.from_sample
    assert rental.column("customer_id").orphans is None  # FK checks only for exact runs


def test_mysql_random_key_ranges(sakila_mysql, connector_for):
    conn = connector_for(sakila_mysql)
    options = ProfileOptions(sample_size=1000, exact_distinct_rows=0)
    payment = profile_table(conn, "payment", options)
    assert payment.sample_method == "random key ranges"
    assert 900 <= payment.sample_rows <= 1000
    exact = mysql_facts(sakila_mysql, "SELECT COUNT(DISTINCT customer_id) FROM payment")[0]
    col = payment.column("customer_id")
    assert col.distinct_method == "approximate (hyperloglog)"
    assert abs(col.distinct - exact) <= 0.1 * exact
    # push-down facts stay exact even when the rest is sampled
    assert payment.rows == mysql_facts(sakila_mysql, "SELECT COUNT(*) FROM payment")[0]
