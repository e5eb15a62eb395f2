"""Introspection speed: 1,000 tables x 20 columns on PostgreSQL and MariaDB (target < 10 s).

Run: ``.venv/bin/python benchmarks/introspect_bench.py [--mysql mysql://root@127.0.0.1:3306/]
[--pg postgresql://...] [--tables 1000]``. Without ``--pg`` an embedded pgserver is started
in a temporary folder. Each table has a primary key, a unique key, an index, a foreign key to
the previous table and a check; throwaway databases are dropped at the end.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import psycopg
import pymysql
from sqlalchemy.engine import make_url

from workbench.connectors import connect

COLUMN_TYPES = [
    "integer",
    "varchar(40)",
    "numeric(12,2)",
    "timestamp",
    "text",
    "boolean",
    "bigint",
    "date",
    "double precision",
    "smallint",
]
MYSQL_TYPES = [
    "int",
    "varchar(40)",
    "decimal(12,2)",
    "datetime",
    "text",
    "tinyint(1)",
    "bigint unsigned",
    "date",
    "double",
    "enum('a','b')",
]


def table_ddl(i: int, types: list[str], q: str) -> str:
    cols = [f"{q}id{q} integer NOT NULL PRIMARY KEY", f"{q}parent{q} integer"]
    cols += [f"{q}c{j}{q} {types[j % len(types)]}" for j in range(18)]
    cols.append(f"UNIQUE ({q}c1{q})")
    cols.append(f"CHECK ({q}c0{q} >= 0)")
    if i:
        cols.append(f"FOREIGN KEY ({q}parent{q}) REFERENCES {q}t{i - 1}{q} ({q}id{q})")
    return f"CREATE TABLE {q}t{i}{q} ({', '.join(cols)})"


def bench_pg(url: str | None, n: int) -> float:
    server = None
    if url is None:
        import pgserver

        tmp = Path(tempfile.mkdtemp(prefix="wbib-", dir="/tmp"))
        server = pgserver.get_server(tmp / "data", cleanup_mode="delete")
        url = server.get_uri()
    base = make_url(url)
    with psycopg.connect(base.render_as_string(hide_password=False), autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS wb_introspect_bench")
        c.execute("CREATE DATABASE wb_introspect_bench")
    db_url = base.set(database="wb_introspect_bench").render_as_string(hide_password=False)
    try:
        with psycopg.connect(db_url, autocommit=True) as c:
            for i in range(n):
                c.execute(table_ddl(i, COLUMN_TYPES, '"'))
                c.execute(f'CREATE INDEX ON "t{i}" ("c2")')
            c.execute("ANALYZE")
        return _time(db_url, n)
    finally:
        with psycopg.connect(base.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute("DROP DATABASE IF EXISTS wb_introspect_bench WITH (FORCE)")
        if server is not None:
            server.cleanup()


def bench_mysql(url: str, n: int) -> float:
    u = make_url(url)
    conn = pymysql.connect(
        host=u.host,
        port=u.port or 3306,
        user=u.username or "root",
        password=u.password or "",
        autocommit=True,
    )
    cur = conn.cursor()
    cur.execute("DROP DATABASE IF EXISTS wb_introspect_bench")
    cur.execute("CREATE DATABASE wb_introspect_bench")
    cur.execute("USE wb_introspect_bench")
    try:
        for i in range(n):
            cur.execute(table_ddl(i, MYSQL_TYPES, "`"))
            cur.execute(f"CREATE INDEX ix_c2 ON t{i} (c2)")
        return _time(u.set(database="wb_introspect_bench").render_as_string(hide_password=False), n)
    finally:
        cur.execute("DROP DATABASE IF EXISTS wb_introspect_bench")
        conn.close()


def _time(url: str, n: int) -> float:
    connector = connect(url)
    connector.test()  # connect outside the timing
    start = time.perf_counter()
    schema = connector.introspect()
    elapsed = time.perf_counter() - start
    tables = [t for t in schema.base_tables if t.name.startswith("t")]
    assert len(tables) == n and all(len(t.columns) == 20 for t in tables), "incomplete model"
    assert all(t.foreign_keys for t in tables[1:]) and all(t.uniques for t in tables)
    connector.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mysql", default="mysql://root@127.0.0.1:3306/")
    ap.add_argument("--pg", default=None)
    ap.add_argument("--tables", type=int, default=1000)
    args = ap.parse_args()
    n = args.tables
    print(f"PostgreSQL: {n} tables x 20 columns introspected in {bench_pg(args.pg, n):.2f} s")
    print(
        f"MariaDB/MySQL: {n} tables x 20 columns introspected in {bench_mysql(args.mysql, n):.2f} s"
    )


if __name__ == "__main__":
    main()
