"""How fast a follower applies a source's row changes, its lag under a steady writer, and the
cut-over's write-downtime window.

    python benchmarks/follow_bench.py [--source mariadb|postgres] [--rows 200000]
        [--changes 200000] [--rate 5000]

Starts a private MariaDB with a row-based binlog (as tests/engine/test_follow.py does), or a
private PostgreSQL with ``wal_level=logical`` (``--source postgres``, followed through
pgoutput as tests/engine/test_follow_postgres.py does),
loads a TPC-H-shaped ``orders`` table (``--rows``), copies it into a fresh database of
``--postgres`` with ``--follow``, then measures, in one run:

1. **apply rate**: ``--changes`` row changes (inserts, value updates, key updates and
   deletes in transactions of 100) written while nobody follows, then one ``follow_job``
   applies them all; row changes/s, next to the plain ``INSERT ... ON CONFLICT`` rate of the
   same target for the same rows (a baseline measured in the same run);
2. **lag**: a writer at ``--rate`` row changes/s for ``--seconds``, a follower running in
   turns; the follower's seconds behind (p50/p95/max) sampled after every turn;
3. **cut-over**: the source made read-only, caught up and validated: the write-downtime
   window (from read-only to validated).

With ``--source postgres`` the cut-over's read-only step ends the application sessions and
makes new ones read-only (the writer has stopped by then).

Targets (issue 17): at least 20,000 row changes/s applied; a cut-over window under 10 s.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tpch

from tests.servers import start_binlog_mariadb, start_logical_postgres, stop_private_postgres
from workbench.config import load_settings
from workbench.engine.cutover import cutover
from workbench.engine.follow import follow_job
from workbench.engine.run import CopyOptions, copy_database
from workbench.store import open_store
from workbench.store.tenancy import drop_store_roles

ORDERS = (
    "CREATE TABLE orders (o_orderkey bigint PRIMARY KEY, o_custkey int NOT NULL,"
    " o_orderstatus char(1) NOT NULL, o_totalprice decimal(15,2) NOT NULL,"
    " o_orderdate date NOT NULL, o_orderpriority varchar(15) NOT NULL,"
    " o_clerk varchar(15) NOT NULL, o_shippriority int NOT NULL, o_comment varchar(79))"
)


def _order(key: int, rng: random.Random) -> tuple:
    return (
        key,
        rng.randrange(1, 150_000),
        rng.choice("OFP"),
        Decimal(rng.randrange(100, 50_000_000)) / 100,
        f"199{rng.randrange(2, 9)}-0{rng.randrange(1, 10)}-1{rng.randrange(0, 10)}",
        rng.choice(["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"]),
        f"Clerk#{rng.randrange(1, 1000):09d}",
        0,
        f"comment {key} " * rng.randrange(1, 5),
    )


class Writer:
    """Row changes in transactions of 100: 40% inserts, 40% value updates, 10% key updates,
    10% deletes, at ``rate`` changes/s (None: as fast as it can) until ``changes`` or
    stopped."""

    def __init__(self, connect, next_key: int, rows: int, seed: int) -> None:
        self.connect = connect  # () -> a DB-API connection to the source database
        self.next_key, self.rows, self.rng = next_key, rows, random.Random(seed)
        self.changes = 0
        self.refused: str | None = None
        self.stop = threading.Event()

    def run(self, changes: int | None = None, rate: float | None = None) -> int:
        """Write until stopped, ``changes`` are written, or the source refuses (read-only)."""
        began = time.monotonic()
        try:
            with self.connect() as conn, conn.cursor() as cur:
                while not self.stop.is_set() and (changes is None or self.changes < changes):
                    self._transaction(cur)
                    conn.commit()
                    if rate:
                        ahead = self.changes / rate - (time.monotonic() - began)
                        if ahead > 0:
                            time.sleep(ahead)
        except Exception as exc:  # the cut-over made the source read-only: the app stops
            self.refused = str(exc)
        return self.changes

    def _transaction(self, cur) -> None:
        rng, inserts, updates, moves, deletes = self.rng, [], [], [], []
        for _ in range(100):
            kind = rng.random()
            if kind < 0.4:
                self.next_key += 1
                inserts.append(_order(self.next_key, rng))
            elif kind < 0.8:
                updates.append(
                    (Decimal(rng.randrange(100, 9_999_999)) / 100, rng.randrange(1, self.rows + 1))
                )
            elif kind < 0.9:
                self.next_key += 1
                moves.append((self.next_key, rng.randrange(1, self.rows + 1)))
            else:
                deletes.append((rng.randrange(1, self.rows + 1),))
        cur.executemany("INSERT INTO orders VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)", inserts)
        cur.executemany("UPDATE orders SET o_totalprice = %s WHERE o_orderkey = %s", updates)
        cur.executemany("UPDATE orders SET o_orderkey = %s WHERE o_orderkey = %s", moves)
        cur.executemany("DELETE FROM orders WHERE o_orderkey = %s", deletes)
        # statements (a key already moved or deleted changes no row: counted all the same)
        self.changes += 100


def _upsert_baseline(target_url: str, schema: str, rows: list[tuple]) -> float:
    """Rows/s of plain per-row INSERT ... ON CONFLICT DO UPDATE into a scratch table."""
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(f'CREATE TEMP TABLE t (LIKE "{schema}".orders INCLUDING ALL)')
        began = time.monotonic()
        with conn.transaction(), conn.cursor() as cur:
            for row in rows:
                cur.execute(
                    "INSERT INTO t VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (o_orderkey)"
                    " DO UPDATE SET o_totalprice = EXCLUDED.o_totalprice",
                    row,
                )
        return len(rows) / (time.monotonic() - began)


def _app_login(source: str, server, database: str):
    """A connection factory for an application login (not an admin) on the source."""
    if source == "mariadb":
        import pymysql

        with server.connect() as conn, conn.cursor() as cur:
            cur.execute("CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'App-Pw-5'")
            cur.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{database}`.* TO 'app'@'%'")
        return lambda: pymysql.connect(host=server.host, port=server.port, user="app",
                                       password="App-Pw-5", database=database)  # fmt: skip
    url = server.url(database)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE ROLE app LOGIN PASSWORD 'App-Pw-5'")
        conn.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app")
    app = make_url(url).set(username="app", password="App-Pw-5").render_as_string(False)
    return lambda: psycopg.connect(app)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--changes", type=int, default=200_000)
    parser.add_argument("--rate", type=float, default=5_000, help="row changes/s, lag phase")
    parser.add_argument("--seconds", type=float, default=20, help="length of the lag phase")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--source", choices=["mariadb", "postgres"], default="mariadb")
    parser.add_argument(
        "--tpch", type=float, default=None, help="load TPC-H at this scale factor instead"
    )
    parser.add_argument(
        "--autocommit",
        action="store_true",
        help="the writer runs each statement as its own transaction (default: 100 per commit)",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="wb-follow-bench-"))
    server = (
        start_binlog_mariadb(work / "mariadb")
        if args.source == "mariadb"
        else start_logical_postgres(
            Path("/tmp") / f"wb-follow-bench-pg-{uuid.uuid4().hex[:6]}" / "data"
        )
    )
    store_db, target_db = (f"wb_follow_bench_{uuid.uuid4().hex[:8]}{s}" for s in ("", "_t"))
    base = make_url(args.postgres)
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        for name in (store_db, target_db):
            conn.execute(f'CREATE DATABASE "{name}"')
    target_url = base.set(database=target_db).render_as_string(False)
    store = open_store(
        load_settings(
            database_url=base.set(database=store_db).render_as_string(False),
            data_dir=work / "wb",
            user="bench",
        )
    )
    try:
        database = server.create_database("tpch")
        source_url = server.url(database)

        def connect():
            # transactions of 100 (the writer commits them); --autocommit: each statement its
            # own transaction (about 60 per 100 changes), as an application without them
            return (
                server.connect(database, autocommit=args.autocommit)
                if args.source == "mariadb"
                else psycopg.connect(source_url, autocommit=args.autocommit)
            )

        rng = random.Random(1)
        if args.tpch:  # the whole TPC-H database; the writer changes its orders
            folder = tpch.generate(args.tpch, Path(f"/tmp/tpch/sf{args.tpch:g}"))
            if args.source == "mariadb":
                tpch.load_mysql(source_url, folder)
            else:
                tpch.load_postgres(source_url, folder)
            with connect() as conn, conn.cursor() as cur:
                cur.execute("SELECT max(o_orderkey) FROM orders")
                args.rows = int(cur.fetchone()[0])  # keys are sparse: some changes miss
        else:
            with connect() as conn, conn.cursor() as cur:
                cur.execute(ORDERS)
                for start in range(1, args.rows + 1, 10_000):
                    cur.executemany(
                        "INSERT INTO orders VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                        [_order(k, rng) for k in range(start, min(start + 10_000, args.rows + 1))],
                    )
                conn.commit()
        during = Writer(connect, args.rows + 10_000_000, args.rows, seed=9)
        thread = threading.Thread(target=during.run, kwargs={"rate": args.rate})
        thread.start()  # the application keeps writing while the copy runs
        try:
            copied = copy_database(source_url, target_url, CopyOptions(follow=True), store=store)
        finally:
            during.stop.set()
            thread.join()
        print(
            f"copied {copied.rows_copied:,} rows in {copied.seconds:.1f} s (--follow), "
            f"{during.changes:,} row changes written meanwhile"
        )

        # 1. apply rate
        writer = Writer(connect, args.rows + 1_000_000, args.rows, seed=2)
        began = time.monotonic()
        writer.run(changes=args.changes)
        wrote = time.monotonic() - began
        followed = follow_job(store, copied.job_id, batch_changes=5_000)
        rate = followed.changes / followed.seconds
        sample = [_order(k, random.Random(k)) for k in range(1, 20_001)]
        schema = database if args.source == "mariadb" else "public"
        baseline = _upsert_baseline(target_url, schema, sample)
        print("\n| measure | value |\n| --- | ---: |")
        print(
            "| row changes written by the source ("
            + ("one transaction per statement" if args.autocommit else "transactions of 100")
            + ") | "
            f"{writer.changes:,} in {wrote:.1f} s |"
        )
        print(
            f"| **follower: row changes applied/s** | **{rate:,.0f}** "
            f"({followed.changes:,} in {followed.seconds:.1f} s) |"
        )
        print(
            f"| baseline: per-row INSERT ... ON CONFLICT into the target | {baseline:,.0f} rows/s |"
        )

        # 2. lag under a steady writer
        steady = Writer(connect, writer.next_key + 1_000_000, args.rows, seed=3)
        thread = threading.Thread(target=steady.run, kwargs={"rate": args.rate})
        thread.start()
        lags: list[float] = []
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            turn = follow_job(store, copied.job_id, batch_changes=5_000)
            lags.append(turn.seconds_behind or 0.0)
            time.sleep(0.2)
        steady.stop.set()
        thread.join()
        cuts = statistics.quantiles(lags, n=20) if len(lags) > 1 else lags * 19
        print(
            f"| lag at {args.rate:,.0f} changes/s for {args.seconds:g} s: p50 / p95 / max | "
            f"{statistics.median(lags):.1f} / {cuts[18]:.1f} / {max(lags):.1f} s |"
        )

        # 3. cut-over
        # the application writes through its own login (an admin's would not be stopped)
        steady = Writer(_app_login(args.source, server, database), steady.next_key + 1_000_000,
                        args.rows, seed=4)  # fmt: skip
        thread = threading.Thread(target=steady.run, kwargs={"rate": args.rate})
        thread.start()  # writing until the source goes read-only
        time.sleep(2)
        try:
            done = cutover(store, copied.job_id, read_only=True)
        finally:
            steady.stop.set()
            thread.join()
        print(
            f"| cut-over write-downtime window ({copied.rows_copied:,} rows, validated "
            f"{'ok' if done.validated else 'NOT ok'}, {done.partitions_rechecked} partition(s) "
            f"checked again, the writer at {args.rate:,.0f} changes/s until read-only) | "
            f"{done.downtime_seconds:.1f} s |"
        )
        print(f"(the application's writes stopped with: {steady.refused}; the window's steps:"
              f" {done.steps})")  # fmt: skip
    finally:
        store.close()
        if args.source == "mariadb":
            server.stop()
        else:
            stop_private_postgres(server)
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            for name in (store_db, target_db):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            drop_store_roles(conn, store_db)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
