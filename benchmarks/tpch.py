"""TPC-H data for the benchmarks: generate with tpchgen-cli, load into MariaDB or PostgreSQL.

python benchmarks/tpch.py --scale 1 --mysql mysql://root@127.0.0.1:3306/tpch_sf1
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import time
from pathlib import Path

import psycopg
import pymysql
from sqlalchemy.engine import make_url

TABLES = {
    "region": "r_regionkey INT NOT NULL, r_name CHAR(25) NOT NULL, r_comment VARCHAR(152),"
    " PRIMARY KEY (r_regionkey)",
    "nation": "n_nationkey INT NOT NULL, n_name CHAR(25) NOT NULL, n_regionkey INT NOT NULL,"
    " n_comment VARCHAR(152), PRIMARY KEY (n_nationkey)",
    "part": "p_partkey INT NOT NULL, p_name VARCHAR(55) NOT NULL, p_mfgr CHAR(25) NOT NULL,"
    " p_brand CHAR(10) NOT NULL, p_type VARCHAR(25) NOT NULL, p_size INT NOT NULL,"
    " p_container CHAR(10) NOT NULL, p_retailprice DECIMAL(15,2) NOT NULL,"
    " p_comment VARCHAR(23) NOT NULL, PRIMARY KEY (p_partkey)",
    "supplier": "s_suppkey INT NOT NULL, s_name CHAR(25) NOT NULL, s_address VARCHAR(40) NOT NULL,"
    " s_nationkey INT NOT NULL, s_phone CHAR(15) NOT NULL, s_acctbal DECIMAL(15,2) NOT NULL,"
    " s_comment VARCHAR(101) NOT NULL, PRIMARY KEY (s_suppkey)",
    "partsupp": "ps_partkey INT NOT NULL, ps_suppkey INT NOT NULL, ps_availqty INT NOT NULL,"
    " ps_supplycost DECIMAL(15,2) NOT NULL, ps_comment VARCHAR(199) NOT NULL,"
    " PRIMARY KEY (ps_partkey, ps_suppkey)",
    "customer": "c_custkey INT NOT NULL, c_name VARCHAR(25) NOT NULL,"
    " c_address VARCHAR(40) NOT NULL,"
    " c_nationkey INT NOT NULL, c_phone CHAR(15) NOT NULL, c_acctbal DECIMAL(15,2) NOT NULL,"
    " c_mktsegment CHAR(10) NOT NULL, c_comment VARCHAR(117) NOT NULL, PRIMARY KEY (c_custkey)",
    "orders": "o_orderkey BIGINT NOT NULL, o_custkey INT NOT NULL, o_orderstatus CHAR(1) NOT NULL,"
    " o_totalprice DECIMAL(15,2) NOT NULL, o_orderdate DATE NOT NULL,"
    " o_orderpriority CHAR(15) NOT NULL, o_clerk CHAR(15) NOT NULL, o_shippriority INT NOT NULL,"
    " o_comment VARCHAR(79) NOT NULL, PRIMARY KEY (o_orderkey)",
    "lineitem": "l_orderkey BIGINT NOT NULL, l_partkey INT NOT NULL, l_suppkey INT NOT NULL,"
    " l_linenumber INT NOT NULL, l_quantity DECIMAL(15,2) NOT NULL,"
    " l_extendedprice DECIMAL(15,2) NOT NULL, l_discount DECIMAL(15,2) NOT NULL,"
    " l_tax DECIMAL(15,2) NOT NULL, l_returnflag CHAR(1) NOT NULL, l_linestatus CHAR(1) NOT NULL,"
    " l_shipdate DATE NOT NULL, l_commitdate DATE NOT NULL, l_receiptdate DATE NOT NULL,"
    " l_shipinstruct CHAR(25) NOT NULL, l_shipmode CHAR(10) NOT NULL,"
    " l_comment VARCHAR(44) NOT NULL, PRIMARY KEY (l_orderkey, l_linenumber)",
}

ROWS_SF1 = 8_661_245


def generate(scale: float, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "lineitem.tbl").exists():
        exe = shutil.which("tpchgen-cli") or str(
            Path(__file__).resolve().parents[1] / ".venv/bin/tpchgen-cli"
        )
        subprocess.run([exe, "-s", str(scale), f"--output-dir={folder}"], check=True)
    return folder


def load_mysql(url: str, folder: Path) -> dict[str, float]:
    """(Re)create the database named in ``url`` and LOAD DATA every table; seconds per table."""
    u = make_url(url)
    conn = pymysql.connect(
        host=u.host,
        port=u.port or 3306,
        user=u.username,
        password=u.password or "",
        local_infile=True,
        autocommit=True,
    )
    timings = {}
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{u.database}`")
        cur.execute(f"CREATE DATABASE `{u.database}` CHARACTER SET utf8mb4")
        cur.execute(f"USE `{u.database}`")
        for name, columns in TABLES.items():
            started = time.monotonic()
            cur.execute(f"CREATE TABLE {name} ({columns}) ENGINE=InnoDB")
            cur.execute(
                f"LOAD DATA LOCAL INFILE '{folder / (name + '.tbl')}' INTO TABLE {name} "
                "FIELDS TERMINATED BY '|' LINES TERMINATED BY '|\\n'"
            )
            timings[name] = time.monotonic() - started
        cur.execute("ANALYZE TABLE " + ", ".join(TABLES))
    conn.close()
    return timings


def mysql_types_to_postgres(columns: str) -> str:
    return columns.replace("DECIMAL", "NUMERIC")


def create_postgres_tables(url: str, with_keys: bool = False) -> None:
    """The TPC-H tables in PostgreSQL with the same types (keys optional: added after loads)."""
    with psycopg.connect(url, autocommit=True) as conn:
        for name, columns in TABLES.items():
            cols = mysql_types_to_postgres(columns)
            if not with_keys:
                cols = cols[: cols.index(", PRIMARY KEY")]
            conn.execute(f"DROP TABLE IF EXISTS {name} CASCADE")
            conn.execute(f"CREATE TABLE {name} ({cols})")


def add_postgres_keys(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for name, columns in TABLES.items():
            key = columns[columns.index("PRIMARY KEY") :]
            conn.execute(f"ALTER TABLE {name} ADD {key}")


def load_postgres(url: str, folder: Path) -> None:
    create_postgres_tables(url)
    with psycopg.connect(url, autocommit=True) as conn:
        for name in TABLES:
            with (
                conn.cursor().copy(f"COPY {name} FROM STDIN (FORMAT csv, DELIMITER '|')") as copy,
                open(folder / f"{name}.tbl", "rb") as fh,
            ):
                for line in fh:
                    copy.write(line.rstrip(b"\n").rstrip(b"|") + b"\n")
    add_postgres_keys(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1)
    parser.add_argument("--data", type=Path, default=Path("/tmp/tpch"))
    parser.add_argument("--mysql", help="mysql://user@host:port/database to (re)create and load")
    parser.add_argument("--postgres", help="postgresql://... database to load")
    args = parser.parse_args()
    folder = generate(args.scale, args.data / f"sf{args.scale:g}")
    if args.mysql:
        print(load_mysql(args.mysql, folder))
    if args.postgres:
        load_postgres(args.postgres, folder)
