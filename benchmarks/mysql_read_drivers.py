# ruff: noqa: E501  (a measurement script: long SQL and report lines read better unwrapped)
"""Measure MySQL/MariaDB read throughput (rows/s) of the candidate drivers, and their exactness.

Run: ``.venv/bin/python benchmarks/mysql_read_drivers.py [--url mysql://root@127.0.0.1:3306/] [--rows 1000000]``

Creates a throwaway database ``wb_bench_read`` (dropped at the end unless ``--keep``) holding a
table of ``--rows`` rows of mixed types, then streams it through each driver into Arrow record
batches of 50,000 rows (what ``read_partition`` does) and prints rows/s and peak RSS growth.
A second, tiny table holds the hard values (zero dates, unsigned extremes, decimal(65,30),
time > 24 h, bit, binary, utf8mb4/latin1) and each driver's result is compared to the truth.
"""

from __future__ import annotations

import argparse
import resource
import time
from decimal import Decimal

import pyarrow as pa
import pymysql
import pymysql.cursors
from sqlalchemy.engine import make_url

DB = "wb_bench_read"
BATCH = 50_000
QUERY = "SELECT id, k, name, amount, created, ratio, note FROM big"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup(conn_kw: dict, rows: int) -> None:
    conn = pymysql.connect(**conn_kw, autocommit=True)
    cur = conn.cursor()
    cur.execute(f"CREATE DATABASE IF NOT EXISTS {DB} CHARACTER SET utf8mb4")
    cur.execute(f"USE {DB}")
    cur.execute(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema=%s AND table_name='big'",
        (DB,),
    )
    if cur.fetchone()[0]:
        cur.execute("SELECT COUNT(*) FROM big")
        if cur.fetchone()[0] == rows:
            return
        cur.execute("DROP TABLE big")
    cur.execute(
        "CREATE TABLE big (id BIGINT PRIMARY KEY, k INT NOT NULL, name VARCHAR(60), "
        "amount DECIMAL(14,2), created DATETIME(6), ratio DOUBLE, note TEXT) ENGINE=InnoDB"
    )
    cur.execute("SET SESSION cte_max_recursion_depth = 100000000") if False else None
    # seq_1_to_N is MariaDB's sequence engine: fast server-side generation
    cur.execute(
        f"INSERT INTO big SELECT seq, seq % 1000, CONCAT('name-', seq, '-é€'), seq / 7, "
        f"TIMESTAMP'2020-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL seq % 1000 MICROSECOND, "
        f"seq / 3.0, IF(seq % 10 = 0, NULL, REPEAT('x', seq % 40)) FROM seq_1_to_{rows}"
    )
    cur.execute(
        "CREATE TABLE IF NOT EXISTS hard (id INT PRIMARY KEY, d DATE, dt DATETIME, ub BIGINT UNSIGNED, "
        "dec65 DECIMAL(65,30), t TIME, b BIT(12), bin VARBINARY(8), u VARCHAR(10) CHARACTER SET utf8mb4, "
        "l VARCHAR(10) CHARACTER SET latin1)"
    )
    cur.execute("SET SESSION sql_mode = ''")
    cur.execute("DELETE FROM hard")
    cur.execute(
        "INSERT INTO hard VALUES (1, '0000-00-00', '2024-00-10 00:00:00', 18446744073709551615, "
        "'12345678901234567890123456789012345.123456789012345678901234567890', '838:59:59', b'101010101010', "
        "x'00ff10', '😀 ü', 'café'), (2, '0009-03-04', '0009-03-04 05:06:07', 0, "
        "'-0.000000000000000000000000000001', '-00:00:01', b'0', x'', '', '')"
    )
    conn.close()


TRUTH = {
    "ub": [18446744073709551615, 0],
    "dec65": [
        Decimal("12345678901234567890123456789012345.123456789012345678901234567890"),
        Decimal("-0.000000000000000000000000000001"),
    ],
    "u": ["😀 ü", ""],
    "l": ["café", ""],
}


def bench_pymysql_typed(conn_kw: dict) -> int:
    """PyMySQL SSCursor, PyMySQL's own conversions, pa.array per column."""
    conn = pymysql.connect(**conn_kw, database=DB, cursorclass=pymysql.cursors.SSCursor)
    cur = conn.cursor()
    cur.execute(QUERY)
    n = 0
    while rows := cur.fetchmany(BATCH):
        cols = list(zip(*rows, strict=True))
        pa.RecordBatch.from_arrays(
            [pa.array(c) for c in cols], names=[str(i) for i in range(len(cols))]
        )
        n += len(rows)
    conn.close()
    return n


def _raw_conv() -> dict:
    # encoders kept (keys are Python types), decoders dropped (keys are MySQL field type ints):
    # every value arrives as the server's text (str) or bytes
    return {k: v for k, v in pymysql.converters.conversions.items() if not isinstance(k, int)}


def bench_pymysql_raw(conn_kw: dict) -> int:
    """PyMySQL SSCursor without conversions (text protocol strings), Arrow casts vectorized."""
    conn = pymysql.connect(
        **conn_kw, database=DB, cursorclass=pymysql.cursors.SSCursor, conv=_raw_conv()
    )
    cur = conn.cursor()
    cur.execute(QUERY)
    types = [
        pa.int64(),
        pa.int32(),
        pa.string(),
        pa.decimal128(14, 2),
        pa.timestamp("us"),
        pa.float64(),
        pa.string(),
    ]
    n = 0
    while rows := cur.fetchmany(BATCH):
        cols = list(zip(*rows, strict=True))
        arrays = [pa.array(c, pa.string()).cast(t) for c, t in zip(cols, types, strict=True)]
        pa.RecordBatch.from_arrays(arrays, names=[str(i) for i in range(len(cols))])
        n += len(rows)
    conn.close()
    return n


def bench_mysqlclient(conn_kw: dict, raw: bool) -> int:
    import MySQLdb
    import MySQLdb.cursors

    kw = dict(
        host=conn_kw["host"],
        port=conn_kw["port"],
        user=conn_kw["user"],
        password=conn_kw["password"],
        database=DB,
        charset="utf8mb4",
    )
    if raw:
        import MySQLdb.converters

        kw["conv"] = {
            k: v for k, v in MySQLdb.converters.conversions.items() if not isinstance(k, int)
        }
    conn = MySQLdb.connect(**kw, cursorclass=MySQLdb.cursors.SSCursor)
    cur = conn.cursor()
    cur.execute(QUERY)
    types = [
        pa.int64(),
        pa.int32(),
        pa.string(),
        pa.decimal128(14, 2),
        pa.timestamp("us"),
        pa.float64(),
        pa.string(),
    ]
    n = 0
    while rows := cur.fetchmany(BATCH):
        cols = list(zip(*rows, strict=True))
        if raw:
            arrays = [
                pa.array(c, pa.binary()).cast(pa.string()).cast(t)
                for c, t in zip(cols, types, strict=True)
            ]
        else:
            arrays = [pa.array(c) for c in cols]
        pa.RecordBatch.from_arrays(arrays, names=[str(i) for i in range(len(cols))])
        n += len(rows)
    conn.close()
    return n


def bench_connectorx(url: str) -> int:
    import connectorx as cx

    reader = cx.read_sql(url + DB, QUERY, return_type="arrow_stream", batch_size=BATCH)
    n = 0
    for batch in reader:
        n += batch.num_rows
    return n


def exactness(conn_kw: dict, url: str) -> dict[str, str]:
    out: dict[str, str] = {}
    q = "SELECT id, d, dt, ub, dec65, t, b, bin, u, l FROM hard ORDER BY id"
    # PyMySQL
    conn = pymysql.connect(**conn_kw, database=DB)
    cur = conn.cursor()
    cur.execute(q)
    rows = cur.fetchall()
    conn.close()
    out["pymysql"] = repr(rows)
    try:
        import connectorx as cx

        out["connectorx"] = repr(cx.read_sql(url + DB, q, return_type="arrow").to_pylist())
    except BaseException as exc:  # connectorx panics are BaseException; report, do not stop
        out["connectorx"] = f"ERROR {type(exc).__name__}: {exc}"
    try:
        import connectorx as cx

        safe = (
            "SELECT id, CAST(d AS CHAR) d, CAST(dt AS CHAR) dt, CAST(ub AS CHAR) ub, CAST(dec65 AS CHAR) dec65, "
            "CAST(t AS CHAR) t, CAST(b AS BINARY) b, bin, u, l FROM hard ORDER BY id"
        )
        out["connectorx (CAST AS CHAR)"] = repr(
            cx.read_sql(url + DB, safe, return_type="arrow").to_pylist()
        )
    except BaseException as exc:
        out["connectorx (CAST AS CHAR)"] = f"ERROR {type(exc).__name__}: {exc}"
    try:
        import MySQLdb

        c2 = MySQLdb.connect(
            host=conn_kw["host"],
            port=conn_kw["port"],
            user=conn_kw["user"],
            password=conn_kw["password"],
            database=DB,
            charset="utf8mb4",
        )
        cur = c2.cursor()
        cur.execute(q)
        out["mysqlclient"] = repr(cur.fetchall())
        c2.close()
    except BaseException as exc:
        out["mysqlclient"] = f"ERROR {type(exc).__name__}: {exc}"
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="mysql://root@127.0.0.1:3306/")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    u = make_url(args.url)
    conn_kw = dict(
        host=u.host or "127.0.0.1",
        port=u.port or 3306,
        user=u.username or "root",
        password=u.password or "",
        charset="utf8mb4",
    )
    base = f"mysql://{conn_kw['user']}{':' + conn_kw['password'] if conn_kw['password'] else ''}@{conn_kw['host']}:{conn_kw['port']}/"
    t0 = time.perf_counter()
    setup(conn_kw, args.rows)
    print(f"setup: {args.rows:,} rows ready in {time.perf_counter() - t0:.1f} s")
    runs = [
        ("pymysql SSCursor, converted values -> pa.array", lambda: bench_pymysql_typed(conn_kw)),
        ("pymysql SSCursor, raw text -> Arrow cast", lambda: bench_pymysql_raw(conn_kw)),
        ("connectorx arrow_stream", lambda: bench_connectorx(base)),
    ]
    try:
        import MySQLdb  # noqa: F401

        runs += [
            (
                "mysqlclient SSCursor, converted values -> pa.array",
                lambda: bench_mysqlclient(conn_kw, raw=False),
            ),
            (
                "mysqlclient SSCursor, raw bytes -> Arrow cast",
                lambda: bench_mysqlclient(conn_kw, raw=True),
            ),
        ]
    except ImportError:
        print("mysqlclient: not installed (pip install mysqlclient; needs libmariadb-dev)")
    for label, fn in runs:
        before = rss_mb()
        t0 = time.perf_counter()
        n = fn()
        dt = time.perf_counter() - t0
        print(
            f"{label:55s} {n:>9,} rows  {dt:6.2f} s  {n / dt:>10,.0f} rows/s  peak RSS +{rss_mb() - before:.0f} MB"
        )
    print(
        "\nexactness (hard values: zero dates, unsigned max, decimal(65,30), time > 24 h, bit, binary, utf8mb4, latin1):"
    )
    for name, text in exactness(conn_kw, base).items():
        print(f"  {name}: {text}")
    if not args.keep:
        c = pymysql.connect(**conn_kw, autocommit=True)
        c.cursor().execute(f"DROP DATABASE IF EXISTS {DB}")
        c.close()


if __name__ == "__main__":
    main()
