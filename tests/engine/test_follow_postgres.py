"""Following a PostgreSQL source through logical replication (pgoutput), exactly once.

A private PostgreSQL with ``wal_level=logical`` (started here). A writer runs inserts,
updates of values and of keys, deletes and multi-table transactions with a foreign key while
a throttled copy runs and after it; the follower then applies everything since the copy
began and the target equals the source cell by cell (compared as PostgreSQL's own text).
Cut into short runs it applies each change once; a TRUNCATE and a new column stop it, named;
a keyless table is refused; the cut-over drops the job's slot and publication.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Json, Jsonb

from tests.engine.family import FAMILY, FAMILY_TABLES, family_changes, family_rows
from tests.servers import PostgresServer, start_logical_postgres, stop_private_postgres
from workbench.connectors.postgres_changes import lsn_int
from workbench.engine.cutover import cutover
from workbench.engine.follow import FollowStoppedError, follow_job
from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import InvalidInputError, ValidationFailedError
from workbench.store import jobs

pytestmark = pytest.mark.slow  # a private PostgreSQL restarted with wal_level=logical

SHOP = """
CREATE TABLE items (id int PRIMARY KEY, name varchar(40) NOT NULL, amount numeric(10,2),
                    at timestamptz, tags text[], doc jsonb, span interval, ratio float8);
CREATE TABLE orders (order_id int PRIMARY KEY, item_id int NOT NULL REFERENCES items (id),
                     qty int NOT NULL);
INSERT INTO items SELECT i, 'item ' || i, i / 4.0, timestamptz '2024-01-01' + i * interval '1s',
                         ARRAY['t' || i, NULL], jsonb_build_object('i', i),
                         i * interval '1 mon 1 day', i / 3.0
                  FROM generate_series(1, 2000) i;
INSERT INTO orders SELECT i, i, i % 7 FROM generate_series(1, 2000) i;
ANALYZE;
"""


@pytest.fixture(scope="module")
def logical_pg() -> Iterator[PostgresServer]:
    base = Path("/tmp") / f"wblogical-{os.getpid()}"  # a short socket path
    server = start_logical_postgres(base / "data")
    yield server
    stop_private_postgres(server)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def shop(logical_pg) -> Iterator[str]:
    name = logical_pg.create_database("shop")
    url = logical_pg.url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SHOP)
    yield url
    with psycopg.connect(logical_pg.url(), autocommit=True) as conn:  # slots pin a database
        conn.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            " WHERE database = %s",
            (name,),
        )
    logical_pg.drop_database(name)


class Writer:
    """Source transactions of every kind, until stopped (a thread)."""

    def __init__(self, url: str, seed: int, first_id: int = 100_000) -> None:
        self.url, self.rng = url, random.Random(seed)
        self.next_id, self.transactions = first_id, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Writer:
        self.thread.start()
        return self

    def close(self) -> int:
        self.stop.set()
        self.thread.join(30)
        return self.transactions

    def step(self, conn: psycopg.Connection) -> None:
        rng, kind = self.rng, self.rng.randrange(5)
        if kind == 0:  # a new item and its order, one transaction
            self.next_id += 1
            n = self.next_id
            conn.execute(
                "INSERT INTO items VALUES (%s, %s, %s, now(), %s, %s, %s, %s)",
                (n, f"new {n}\ttab", n % 97, ["x", None, 'q"uote'], '{"new": true}',
                 "3 days 04:05:06", 1e-300),
            )  # fmt: skip
            conn.execute("INSERT INTO orders VALUES (%s, %s, 1)", (n, n))
        elif kind == 1:  # values change
            conn.execute(
                "UPDATE items SET amount = amount + 1, name = name || '+', span = span * 2"
                " WHERE id = %s",
                (rng.randrange(1, 2001),),
            )
        elif kind == 2:  # a key changes
            self.next_id += 1
            conn.execute(
                "UPDATE orders SET order_id = %s WHERE order_id = %s",
                (self.next_id, rng.randrange(1, 2001)),
            )
        elif kind == 3:  # an order and its item go, one transaction
            victim = rng.randrange(1, 2001)
            conn.execute("DELETE FROM orders WHERE item_id = %s", (victim,))
            conn.execute("DELETE FROM items WHERE id = %s", (victim,))
        else:  # several rows at once
            low = rng.randrange(1, 1900)
            conn.execute(
                "UPDATE orders SET qty = qty + 1 WHERE order_id BETWEEN %s AND %s",
                (low, low + 50),
            )

    def _run(self) -> None:
        with psycopg.connect(self.url) as conn:
            while not self.stop.is_set():
                self.step(conn)
                conn.commit()
                self.transactions += 1
                self.stop.wait(0.005)


def as_text(url: str, table: str, schema: str = "public") -> list[str]:
    with psycopg.connect(url) as conn:
        conn.execute("SET TimeZone = 'UTC'; SET extra_float_digits = 3")
        rows = conn.execute(f'SELECT r::text FROM "{schema}"."{table}" r ORDER BY 1').fetchall()
    return [r[0] for r in rows]


def assert_same(source: str, target: str) -> None:
    for table in ("items", "orders"):
        mine, theirs = as_text(source, table), as_text(target, table)
        assert len(theirs) == len(mine), (table, len(mine), len(theirs))
        assert theirs == mine, table


def slots(server: PostgresServer) -> list[str]:
    with psycopg.connect(server.url()) as conn:
        return [r[0] for r in conn.execute("SELECT slot_name FROM pg_replication_slots")]


def test_changes_during_and_after_the_copy_arrive_exactly_once(logical_pg, shop, target_url, store):
    writer = Writer(shop, seed=1).start()
    try:
        options = CopyOptions(follow=True, partition_rows=400, batch_rows=200,
                              max_rows_per_second=2_000)  # fmt: skip
        result = copy_database(shop, target_url, options, store=store)
    finally:
        during = writer.transactions
        after = Writer(shop, seed=2, first_id=writer.next_id + 10_000)
        writer.close()
    after.start()
    threading.Event().wait(1.0)
    written = during + after.close()
    assert result.status == "succeeded", result.summary()
    assert during > 20, f"only {during} source transactions ran during the copy"

    followed = follow_job(store, result.job_id)
    assert followed.caught_up and followed.transactions >= written - during
    assert set(followed.tables) <= {"items", "orders"} and followed.changes > 0
    assert followed.seconds_behind is not None and followed.seconds_behind < 60
    assert_same(shop, target_url)
    again = follow_job(store, result.job_id)  # nothing new: nothing applied
    assert again.changes == 0 and again.caught_up
    assert again.changes_total == followed.changes_total
    assert_same(shop, target_url)
    # the slot moved on with the target: the source may recycle the WAL before that point
    with psycopg.connect(shop) as conn:
        (flushed,) = conn.execute("SELECT confirmed_flush_lsn::text FROM pg_replication_slots")
    assert lsn_int(flushed[0]) >= followed.position["offset"] > result_start(store, result)


def result_start(store, result) -> int:
    return int(jobs.get_job(store, result.job_id).statistics["follow_from"]["offset"])


def test_a_follower_cut_into_short_runs_applies_each_change_once(shop, target_url, store):
    result = copy_database(shop, target_url, CopyOptions(follow=True), store=store)
    assert result.status == "succeeded"
    writer = Writer(shop, seed=3)
    with psycopg.connect(shop) as conn:
        for _ in range(120):
            writer.step(conn)
            conn.commit()
    runs, applied = 0, 0
    while True:  # every run stops after 7 source transactions, in batches of 3 changes
        done = follow_job(store, result.job_id, batch_changes=3, max_transactions=7)
        runs, applied = runs + 1, applied + done.changes
        if done.caught_up:
            break
        assert runs < 100
    assert runs >= 120 // 7
    assert_same(shop, target_url)
    with psycopg.connect(target_url) as conn:
        query = "SELECT changes_applied FROM _workbench.follow_positions"
        (total,) = conn.execute(query).fetchone()
    assert total == applied  # each change counted once across all the runs


def test_a_new_column_stops_the_follower_and_it_goes_on_after(shop, target_url, store):
    result = copy_database(shop, target_url, CopyOptions(follow=True), store=store)
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("UPDATE items SET name = 'before' WHERE id = 1")
        conn.execute("ALTER TABLE items ADD COLUMN colour varchar(10)")
        conn.execute("UPDATE items SET name = 'after', colour = 'red' WHERE id = 2")
    with pytest.raises(FollowStoppedError, match=r"items holds column\(s\) colour") as info:
        follow_job(store, result.job_id)
    assert "Add them to the target" in str(info.value)
    with psycopg.connect(target_url) as conn:  # what came before the change is in
        name = conn.execute("SELECT name FROM public.items WHERE id = 1").fetchone()[0]
        assert name == "before"
        conn.execute("ALTER TABLE public.items ADD COLUMN colour varchar(10)")
    done = follow_job(store, result.job_id)
    assert done.caught_up and done.changes == 1
    assert_same(shop, target_url)


def test_a_truncate_stops_the_follower_named(shop, target_url, store):
    result = copy_database(shop, target_url, CopyOptions(follow=True), store=store)
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("UPDATE items SET name = 'kept' WHERE id = 3")
        conn.execute("TRUNCATE orders")
    with pytest.raises(FollowStoppedError, match="TRUNCATE orders"):
        follow_job(store, result.job_id)
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT name FROM items WHERE id = 3").fetchone()[0] == "kept"
        conn.execute("TRUNCATE orders")
    done = follow_job(store, result.job_id)  # on after the statement, made in the target
    assert done.caught_up and done.changes == 0
    assert_same(shop, target_url)


def test_a_table_without_a_key_is_refused(logical_pg, target_url, store):
    name = logical_pg.create_database("nokey")
    url = logical_pg.url(name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE notes (body text)")
            conn.execute("INSERT INTO notes VALUES ('a'), ('b')")
        result = copy_database(url, target_url, CopyOptions(follow=True), store=store)
        assert result.status == "succeeded"
        with psycopg.connect(url, autocommit=True) as conn:  # not published: writes go on
            conn.execute("UPDATE notes SET body = 'c' WHERE body = 'a'")
        with pytest.raises(InvalidInputError, match="notes has no primary key"):
            follow_job(store, result.job_id)
    finally:
        with psycopg.connect(logical_pg.url(), autocommit=True) as conn:
            conn.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                " WHERE database = %s",
                (name,),
            )
        logical_pg.drop_database(name)


def test_the_cutover_validates_and_releases_the_slot(logical_pg, shop, target_url, store):
    result = copy_database(shop, target_url, CopyOptions(follow=True), store=store)
    assert any(s.startswith("wb_follow_") for s in slots(logical_pg))
    writer = Writer(shop, seed=4)
    with psycopg.connect(shop) as conn:
        for _ in range(40):
            writer.step(conn)
            conn.commit()
    done = cutover(store, result.job_id)
    assert done.validated and done.changes_applied > 0
    assert_same(shop, target_url)
    assert not [s for s in slots(logical_pg) if s.startswith("wb_follow_")]
    with psycopg.connect(shop) as conn:
        assert conn.execute("SELECT count(*) FROM pg_publication").fetchone()[0] == 0


def test_changes_go_through_the_copys_transforms_and_masks(logical_pg, shop, target_url, store):
    """A masked, transformed table is followed: each change lands as the copy would have
    written that row (compared with a fresh copy of the source, same project, same salt)."""
    rules = {"items": {"name": {"mask": {"kind": "hash"}}, "amount": {"default": 0}}}
    writer = Writer(shop, seed=5).start()
    try:
        options = CopyOptions(follow=True, partition_rows=400, batch_rows=200,
                              max_rows_per_second=2_000, transforms=rules)  # fmt: skip
        result = copy_database(shop, target_url, options, store=store)
    finally:
        writer.close()
    assert result.status == "succeeded", result.summary()
    with psycopg.connect(shop, autocommit=True) as conn:  # a NULL the default fills
        conn.execute("UPDATE items SET amount = NULL WHERE id = 7")
    followed = follow_job(store, result.job_id)
    assert followed.caught_up and followed.tables.get("items", 0) > 0

    fresh = logical_pg.url(logical_pg.create_database("wbfresh"))
    try:
        again = copy_database(shop, fresh, CopyOptions(transforms=rules), store=store)
        assert again.status == "succeeded"
        for table in ("items", "orders"):
            assert as_text(target_url, table) == as_text(fresh, table), table
        with psycopg.connect(target_url) as conn:
            names = [n for (n,) in conn.execute("SELECT name FROM items")]
            amount = conn.execute("SELECT amount FROM items WHERE id = 7").fetchone()[0]
        assert not any(n.startswith(("item ", "new ")) for n in names)  # masked, all of them
        assert amount == 0
    finally:
        logical_pg.drop_database(fresh.rsplit("/", 1)[1])


def test_a_read_only_cutover_stops_the_applications_writes_and_measures_them(
    logical_pg, shop, target_url, store
):
    """The application writes through its own login; `cutover --read-only` ends its sessions,
    its reconnections are read-only, what is left is applied and validated, the foreign key
    the copy deferred is built, and the write-downtime is measured."""
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("CREATE ROLE app LOGIN PASSWORD 'App-Pw-5'")
        conn.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON items, orders TO app")
    app = shop.replace("postgresql://postgres:@", "postgresql://app:App-Pw-5@")
    refused: list[str] = []

    def write() -> None:  # the application: reconnects when its session is ended
        writer = Writer(app, seed=6)
        while not writer.stop.is_set() and not refused:
            try:
                with psycopg.connect(app) as conn:
                    while True:
                        writer.step(conn)
                        conn.commit()
                        writer.stop.wait(0.005)
            except psycopg.errors.ReadOnlySqlTransaction as exc:
                refused.append(str(exc))
            except psycopg.OperationalError:
                continue  # its session was ended: it connects again

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        options = CopyOptions(follow=True, partition_rows=500, max_rows_per_second=4_000)
        copied = copy_database(shop, target_url, options, store=store)
        assert copied.status == "succeeded"
        result = cutover(store, copied.job_id, read_only=True)
        thread.join(10)
    finally:
        with psycopg.connect(shop, autocommit=True) as conn:
            conn.execute("SET default_transaction_read_only = off")
            db = shop.rsplit("/", 1)[1].split("?")[0]
            conn.execute(f'ALTER DATABASE "{db}" RESET default_transaction_read_only')
            conn.execute("DROP OWNED BY app")
            conn.execute("DROP ROLE app")
    assert refused and "read-only transaction" in refused[0], refused
    assert result.validated and result.tables == 2 and not result.constraints_failed
    assert result.downtime_seconds is not None and 0 < result.downtime_seconds < 120
    assert_same(shop, target_url)
    with psycopg.connect(target_url) as conn:  # the foreign key the copy deferred is built
        (fks,) = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
            " AND conrelid = 'public.orders'::regclass"
        ).fetchone()
    assert fks == 1


def test_after_the_writes_stop_only_what_moved_is_checked_again(
    logical_pg, shop, target_url, store, monkeypatch
):
    """Every partition is checked while the source is live; once it stands still only those
    holding a key a change touched since are read again (and a planted difference in one the
    changes did not touch is still found: it differed in the live check)."""
    import workbench.engine.cutover as module

    live_check = module.validate_job_plan
    calls = []

    def then_write(*args, **kwargs):  # the application writes right after the live check
        report = live_check(*args, **kwargs)
        if not calls:
            with psycopg.connect(shop, autocommit=True) as conn:  # two keys, far apart
                conn.execute("UPDATE items SET name = 'moved' WHERE id IN (5, 1999)")
        calls.append(report)
        return report

    monkeypatch.setattr(module, "validate_job_plan", then_write)
    options = CopyOptions(follow=True, partition_rows=200)
    result = copy_database(shop, target_url, options, store=store)
    assert result.tables["public.items"]["partitions"] >= 8
    done = cutover(store, result.job_id)
    assert done.validated and done.changes_applied == 2
    assert done.partitions_rechecked == 2  # items: the two holding 5 and 1999; orders: none
    assert_same(shop, target_url)

    again = copy_database(
        shop, target_url, CopyOptions(follow=True, partition_rows=200, if_exists="replace"),
        store=store,
    )  # fmt: skip
    calls.append("no more writes")
    with psycopg.connect(target_url, autocommit=True) as conn:  # a difference nobody made
        conn.execute("UPDATE items SET name = 'tampered' WHERE id = 1000")
    with pytest.raises(ValidationFailedError, match=r"public\.items") as info:
        cutover(store, again.job_id)
    assert len(info.value.fields["partitions"]["public.items"]) == 1  # the tampered one
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("UPDATE items SET name = 'moved' WHERE id = 1000")
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute("UPDATE items SET name = 'moved' WHERE id = 1000")
    checked = cutover(store, again.job_id, full_check=True)  # every partition read again
    assert checked.validated
    assert checked.partitions_rechecked == sum(t["partitions"] for t in again.tables.values())


def test_rows_changed_by_foreign_key_actions_arrive(shop, target_url, store):
    """PostgreSQL's logical replication carries the rows a foreign key's action changed like
    any other: the follower, which applies the actions itself for MySQL/MariaDB sources, does
    not here, and the target still ends as the source (before and after its foreign keys are
    built)."""
    with psycopg.connect(shop) as conn, conn.cursor() as cur:
        for statement in FAMILY:
            cur.execute(statement)
        for statement, rows in family_rows():
            cur.executemany(statement, rows)
    result = copy_database(shop, target_url, CopyOptions(follow=True), store=store)
    assert result.status == "succeeded"
    for round_, base in enumerate((1000, 2000)):
        with psycopg.connect(shop) as conn, conn.cursor() as cur:
            family_changes(cur, base)
        done = follow_job(store, result.job_id)
        assert done.caught_up and done.tables["child"] >= 2  # cascaded rows came logged
        if round_ == 0:
            assert done.constraints_built >= 4 and not done.constraints_failed
        for table, _ in FAMILY_TABLES:
            assert as_text(target_url, table, "public") == as_text(shop, table), (round_, table)


PG_TYPES = """CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE every (id int PRIMARY KEY, s smallint, i int, b bigint, n numeric, n2 numeric(12,3),
  r real, d double precision, ok boolean, t text, v varchar(20), c char(5), by bytea,
  dt date, ts timestamp(3), tz timestamptz, tm time, iv interval, u uuid, j json, jb jsonb,
  ar int[], ta text[], m mood, ip inet, mo money)"""


def _pg_row(key: int, rng: random.Random) -> tuple:
    def maybe(value):
        return None if rng.random() < 0.15 else value

    return (
        key, maybe(rng.randrange(-32768, 32768)), maybe(rng.randrange(-(2**31), 2**31)),
        maybe(rng.randrange(-(2**63), 2**63)),
        maybe(Decimal(f"{rng.randrange(-10**12, 10**12)}.{rng.randrange(0, 10**6):06d}")),
        maybe(Decimal(rng.randrange(-10**9, 10**9)) / 1000),
        maybe(rng.uniform(-1e30, 1e30)), maybe(rng.uniform(-1e300, 1e300)),
        maybe(rng.random() < 0.5), maybe(rng.choice(["", "plain", "tab\tnew\nline", "ü 😀"])),
        maybe("v" * rng.randrange(0, 20)), maybe(rng.choice(["a", "abcde", ""])),
        maybe(rng.randbytes(rng.randrange(0, 40))),
        maybe(dt.date(rng.randrange(1, 9999), rng.randrange(1, 13), rng.randrange(1, 29))),
        maybe(dt.datetime(2024, 1, 1, 12) + dt.timedelta(microseconds=rng.randrange(10**13))),
        maybe(dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=key)),
        maybe(dt.time(rng.randrange(24), rng.randrange(60), rng.randrange(60),
                      rng.randrange(10**6))),
        maybe(dt.timedelta(days=rng.randrange(-400, 400), seconds=rng.randrange(86400))),
        maybe(uuid.UUID(int=rng.getrandbits(128))), maybe(Json({"k": [key, "é", None]})),
        maybe(Jsonb({"a": {"b": key}})), maybe([key, None, -key]),
        maybe(["x", 'q"uote', "back\\slash", None]), maybe(rng.choice(["sad", "ok", "happy"])),
        maybe(rng.choice(["10.0.0.1", "::1", "192.168.0.0/24"])),
        maybe(Decimal(rng.randrange(-10**6, 10**6)) / 100),
    )  # fmt: skip


def test_every_type_followed_lands_as_the_copy_loads_it(logical_pg, shop, target_url, store):
    """The same rows of PostgreSQL's common types, once copied and once followed through
    pgoutput: the target holds the same JSON text for both."""
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute(PG_TYPES)

    def write(first: int) -> None:
        rng = random.Random(3)
        marks = ", ".join(["%s"] * 26)
        with psycopg.connect(shop) as conn, conn.cursor() as cur:
            cur.executemany(f"INSERT INTO every VALUES ({marks})",
                            [(first + k, *_pg_row(k, rng)[1:]) for k in range(1, 81)])  # fmt: skip

    write(0)
    result = copy_database(shop, target_url, CopyOptions(follow=True), store=store)
    assert result.status == "succeeded", result.summary()
    write(1000)
    assert follow_job(store, result.job_id).caught_up
    with psycopg.connect(target_url) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        rows = conn.execute(
            "SELECT id, to_jsonb(w) - 'id' FROM public.every w ORDER BY id"
        ).fetchall()
    copied = [r[1] for r in rows if r[0] < 1000]
    followed = [r[1] for r in rows if r[0] >= 1000]
    assert len(followed) == len(copied) == 80
    for k, (mine, theirs) in enumerate(zip(followed, copied, strict=True)):
        assert mine == theirs, (k + 1, mine, theirs)
