"""What a copy carries besides rows: views translated, generated columns computed by the
target, identity sequences where the source would continue, and every object left behind
named with its reason."""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url

from workbench.engine.run import CopyOptions, copy_database
from workbench.store import jobs


def fetch(url: str, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def test_sakila_views_translated_and_procedural_objects_named(sakila_mysql, target_url, store):
    db = make_url(sakila_mysql).database
    result = copy_database(sakila_mysql, target_url, CopyOptions(workers=2), store=store)
    assert result.status == "succeeded" and result.validated
    views = {r[0] for r in fetch(
        target_url, "SELECT table_name FROM information_schema.views WHERE table_schema = %s", (db,)
    )}  # fmt: skip
    left = {item["object"]: item["reason"] for item in result.not_migrated}
    sakila_views = {
        "actor_info", "customer_list", "film_list", "nicer_but_slower_film_list",
        "sales_by_film_category", "sales_by_store", "staff_list",
    }  # fmt: skip
    # every view is either in the target or named with its reason
    for view in sakila_views:
        assert view in views or f"view {db}.{view}" in left, view
    assert len(views) >= 4, (views, left)
    # a translated view answers like the source's
    customers = fetch(target_url, f'SELECT count(*) FROM "{db}".customer_list')[0][0]
    assert customers == 599
    # triggers, procedures and functions are named, never silently dropped
    for name in ("customer_create_date", "ins_film", "upd_film", "del_film"):
        assert any(k.startswith(f"trigger {db}.{name} on ") for k in left), name
    assert f"procedure {db}.film_in_stock" in left
    assert f"function {db}.get_customer_balance" in left
    logged = [e.message for e in jobs.job_logs(store, result.job_id)]
    assert any(m.startswith(f"Not migrated: trigger {db}.ins_film") for m in logged)


def test_identity_continues_where_the_source_would(mysql_server, mysql_database, target_url, store):
    db = make_url(mysql_database).database
    with mysql_server.connect(db) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE empty_ai (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT)"
                    " AUTO_INCREMENT=777")  # fmt: skip
        cur.execute("CREATE TABLE gappy (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT)")
        cur.executemany("INSERT INTO gappy (v) VALUES (%s)", [(f"r{i}",) for i in range(10)])
        cur.execute("DELETE FROM gappy WHERE id > 5")  # next would be 11, max is 5
        cur.execute(
            "CREATE TABLE priced (id INT PRIMARY KEY, price DECIMAL(10,2), qty INT,"
            " first VARCHAR(20), last VARCHAR(20),"
            " total DECIMAL(12,2) AS (price * qty) STORED,"
            " full_name VARCHAR(41) AS (CONCAT(first, ' ', last)) VIRTUAL,"
            " stamp VARCHAR(30) AS (MD5(first)) VIRTUAL)"
        )
        cur.execute(
            "INSERT INTO priced (id, price, qty, first, last) VALUES"
            " (1, 2.50, 4, 'Ada', 'Lovelace'), (2, 1.00, NULL, 'Alan', 'Turing')"
        )
    result = copy_database(mysql_database, target_url, CopyOptions(workers=1), store=store)
    assert result.status == "succeeded" and result.validated
    with psycopg.connect(target_url, autocommit=True) as conn:
        new = conn.execute(f'INSERT INTO "{db}".empty_ai (v) VALUES (%s) RETURNING id', ("x",))
        assert new.fetchone()[0] == 777
        new = conn.execute(f'INSERT INTO "{db}".gappy (v) VALUES (%s) RETURNING id', ("x",))
        assert new.fetchone()[0] == 11
        # generated columns PostgreSQL can compute are computed there, also for new rows
        conn.execute(
            f'INSERT INTO "{db}".priced (id, price, qty, first, last)'
            " VALUES (3, 3.00, 2, 'Grace', 'Hopper')"
        )
        rows = conn.execute(
            f'SELECT id, total, full_name, stamp FROM "{db}".priced ORDER BY id'
        ).fetchall()
        kinds = dict(conn.execute(
            "SELECT column_name, is_generated FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = 'priced'", (db,)
        ).fetchall())  # fmt: skip
    assert [(r[0], float(r[1]) if r[1] is not None else None, r[2]) for r in rows] == [
        (1, 10.0, "Ada Lovelace"), (2, None, "Alan Turing"), (3, 6.0, "Grace Hopper"),
    ]  # fmt: skip
    assert kinds["total"] == "ALWAYS" and kinds["full_name"] == "ALWAYS"
    # MD5 is not known to be immutable there: loaded as values, and said so
    assert kinds["stamp"] == "NEVER" and rows[0][3] is not None and rows[2][3] is None
    left = {item["object"]: item["reason"] for item in result.not_migrated}
    assert "MD5" in left[f"generated column {db}.priced.stamp"]


def test_append_moves_the_identity_past_the_appended_rows(pg_database, target_url, store):
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                     " v text)")  # fmt: skip
        conn.execute("INSERT INTO items (v) SELECT 'r' || i FROM generate_series(1, 20) i")
    with psycopg.connect(target_url, autocommit=True) as conn:  # the target table exists
        conn.execute("CREATE TABLE items (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                     " v text)")  # fmt: skip
    result = copy_database(
        pg_database, target_url, CopyOptions(workers=1, if_exists="append"), store=store
    )
    assert result.status == "succeeded" and result.validated
    with psycopg.connect(target_url, autocommit=True) as conn:
        # before: the sequence stayed at 1 and this INSERT failed on a duplicate key
        new = conn.execute("INSERT INTO items (v) VALUES ('next') RETURNING id").fetchone()[0]
    assert new == 21
