"""Following a MariaDB source's changes after a copy: exactly once, by key, in commit order.

A private MariaDB with a row-based binary log (started here). A writer runs inserts, updates
(of values and of keys), deletes and multi-table transactions with a foreign key while the
copy runs and after it; the follower then applies everything since the copy began, and the
target equals the source cell by cell. Cut into many short runs, it applies each change
once; a DDL statement stops it, named; a table without a key is refused."""

from __future__ import annotations

import datetime as dt
import os
import random
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from tests.engine.family import FAMILY, FAMILY_TABLES, family_changes, family_rows
from tests.servers import MySQLServer, start_binlog_mariadb
from workbench.engine.cutover import recheck
from workbench.engine.follow import FollowStoppedError, follow_job
from workbench.engine.repair import replan
from workbench.engine.run import CopyOptions, copy_database
from workbench.engine.validate import ValidationReport
from workbench.errors import InvalidInputError
from workbench.store import jobs

pytestmark = pytest.mark.slow  # a private MariaDB, throttled copies


@pytest.fixture(scope="module")
def mariadb() -> Iterator[MySQLServer]:
    server = start_binlog_mariadb(Path("/tmp") / f"wbfollow-{os.getpid()}")
    yield server
    server.stop()


@pytest.fixture
def shop(mariadb) -> Iterator[str]:
    """A database with items and orders (orders.item_id references items), 2,000 each."""
    name = mariadb.create_database("shop")
    with mariadb.connect(name) as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE items (id int PRIMARY KEY, name varchar(40) NOT NULL,"
            " amount decimal(10,2), at datetime(3))"
        )
        cur.execute(
            "CREATE TABLE orders (order_id int PRIMARY KEY, item_id int NOT NULL,"
            " qty int NOT NULL, FOREIGN KEY (item_id) REFERENCES items (id))"
        )
        cur.executemany(
            "INSERT INTO items VALUES (%s, %s, %s, %s)",
            [(i, f"item {i}", Decimal(i) / 4, f"2024-01-01 00:00:{i % 60:02d}.{i % 1000:03d}")
             for i in range(1, 2001)],
        )  # fmt: skip
        cur.executemany(
            "INSERT INTO orders VALUES (%s, %s, %s)", [(i, i, i % 7) for i in range(1, 2001)]
        )
        conn.commit()
    yield mariadb.url(name)
    mariadb.drop_database(name)


class Writer:
    """Source transactions of every kind, until stopped (a thread)."""

    def __init__(
        self, server: MySQLServer, database: str, seed: int, login: tuple[str, str] | None = None
    ) -> None:
        self.server, self.database, self.rng = server, database, random.Random(seed)
        self.login = login  # (user, password): an application's login, not root
        self.next_id, self.transactions = 100_000, 0
        self.refused: str | None = None  # the error that stopped it, if the source did
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Writer:
        self.thread.start()
        return self

    def close(self) -> int:
        self.stop.set()
        self.thread.join(30)
        return self.transactions

    def step(self, cur) -> None:
        rng, kind = self.rng, self.rng.randrange(5)
        if kind == 0:  # a new item and its order, one transaction
            self.next_id += 1
            n = self.next_id
            cur.execute("INSERT INTO items VALUES (%s, %s, %s, NOW(3))", (n, f"new {n}", n % 97))
            cur.execute("INSERT INTO orders VALUES (%s, %s, %s)", (n, n, 1))
        elif kind == 1:  # values change
            cur.execute(
                "UPDATE items SET amount = amount + 1, name = CONCAT(name, '+') WHERE id = %s",
                (rng.randrange(1, 2001),),
            )
        elif kind == 2:  # a key changes
            old = rng.randrange(1, 2001)
            self.next_id += 1
            cur.execute("UPDATE orders SET order_id = %s WHERE order_id = %s", (self.next_id, old))
        elif kind == 3:  # an order and its item go, one transaction
            victim = rng.randrange(1, 2001)
            cur.execute("DELETE FROM orders WHERE item_id = %s", (victim,))
            cur.execute("DELETE FROM items WHERE id = %s", (victim,))
        else:  # several rows at once
            low = rng.randrange(1, 1900)
            cur.execute("UPDATE orders SET qty = qty + 1 WHERE order_id BETWEEN %s AND %s",
                        (low, low + 50))  # fmt: skip

    def _run(self) -> None:
        import pymysql

        user, password = self.login or (self.server.user, self.server.password)
        connection = pymysql.connect(
            host=self.server.host, port=self.server.port, user=user, password=password,
            database=self.database, charset="utf8mb4",
        )  # fmt: skip
        with connection as conn, conn.cursor() as cur:
            while not self.stop.is_set():
                try:
                    self.step(cur)
                    conn.commit()
                except pymysql.err.MySQLError as exc:  # e.g. the source went read-only
                    conn.rollback()
                    self.refused = str(exc)  # (a test of a writer that stopped early fails)
                    return
                self.transactions += 1
                self.stop.wait(0.005)


def _rows(mariadb: MySQLServer, database: str, target_url: str, table: str, key: str):
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {table} ORDER BY {key}")
        source = [tuple(r) for r in cur.fetchall()]
    with psycopg.connect(target_url) as conn:
        target = conn.execute(f'SELECT * FROM "{database}"."{table}" ORDER BY {key}').fetchall()
    return source, [tuple(r) for r in target]


def assert_same(mariadb: MySQLServer, database: str, target_url: str) -> None:
    for table, key in (("items", "id"), ("orders", "order_id")):
        source, target = _rows(mariadb, database, target_url, table, key)
        assert len(target) == len(source), (table, len(source), len(target))
        for mine, theirs in zip(source, target, strict=True):
            assert mine == theirs, (table, mine, theirs)


def test_changes_during_and_after_the_copy_arrive_exactly_once(mariadb, shop, target_url, store):
    database = shop.rsplit("/", 1)[1]
    writer = Writer(mariadb, database, seed=1).start()
    try:
        options = CopyOptions(follow=True, partition_rows=400, batch_rows=200,
                              max_rows_per_second=2_000)  # fmt: skip
        result = copy_database(shop, target_url, options, store=store)
    finally:
        during = writer.transactions
        after = Writer(mariadb, database, seed=2)
        after.next_id = writer.next_id + 10_000
        writer.close()
    after.start()
    threading.Event().wait(1.0)
    written = during + after.close()
    assert result.status == "succeeded", result.summary()
    assert during > 20, f"only {during} source transactions ran during the copy"

    followed = follow_job(store, result.job_id)
    assert followed.caught_up and followed.transactions >= written - during
    assert followed.seconds_behind is not None and followed.seconds_behind < 60
    # per table and per second, as the job's statistics carry them for `workbench jobs`
    assert sum(followed.tables.values()) == followed.changes
    assert set(followed.tables) <= {"items", "orders"} and followed.changes_per_second > 0
    shown = jobs.get_job(store, result.job_id).statistics["follow"]
    assert shown["tables"] == followed.tables and shown["seconds_behind"] < 60
    from click.testing import CliRunner

    from workbench.cli import main

    env = {
        "WORKBENCH_DATABASE_URL": store.settings.database_url.reveal(),
        "WORKBENCH_DATA_DIR": str(store.settings.data_dir),
        "WORKBENCH_USER": store.user,
    }
    listed = CliRunner().invoke(main, ["jobs"], env=env)
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.output.splitlines() if line.split()[0] == str(result.job_id))
    assert "changes/s" in row  # the follower's lag and pace, in the job's row
    assert_same(mariadb, database, target_url)
    again = follow_job(store, result.job_id)  # nothing new: nothing applied
    assert again.changes == 0 and again.caught_up
    assert again.changes_total == followed.changes_total == followed.changes
    assert_same(mariadb, database, target_url)

    from workbench.monitoring.metrics import render  # the lag, as Prometheus scrapes it

    scraped = render(store)
    job = f'job_id="{result.job_id}"'
    total = f"workbench_follow_changes_total{{{job}"
    line = next(x for x in scraped.splitlines() if x.startswith(total))
    assert float(line.rsplit(" ", 1)[1]) == followed.changes_total
    assert f"workbench_follow_seconds_behind{{{job}" in scraped


def test_a_follower_cut_into_short_runs_applies_each_change_once(mariadb, shop, target_url, store):
    database = shop.rsplit("/", 1)[1]
    result = copy_database(shop, target_url, CopyOptions(follow=True), store=store)
    assert result.status == "succeeded"
    writer = Writer(mariadb, database, seed=3)
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        for _ in range(120):
            writer.step(cur)
            conn.commit()
    runs, applied = 0, 0
    while True:  # every run stops after 7 source transactions, in batches of 3 changes
        done = follow_job(store, result.job_id, batch_changes=3, max_transactions=7)
        runs, applied = runs + 1, applied + done.changes
        if done.caught_up:
            break
        assert runs < 100
    assert runs >= 120 // 7
    assert_same(mariadb, database, target_url)
    with psycopg.connect(target_url) as conn:
        query = "SELECT changes_applied FROM _workbench.follow_positions"
        (total,) = conn.execute(query).fetchone()
    assert total == applied  # each change counted once across all the runs


def test_a_ddl_statement_stops_the_follower_and_it_goes_on_after(mariadb, shop, target_url, store):
    database = shop.rsplit("/", 1)[1]
    result = copy_database(shop, target_url, CopyOptions(follow=True), store=store)
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        cur.execute("UPDATE items SET name = 'before' WHERE id = 1")
        conn.commit()
        cur.execute("ALTER TABLE items ADD COLUMN colour varchar(10)")
        cur.execute("UPDATE items SET name = 'after', colour = 'red' WHERE id = 2")
        conn.commit()
    with pytest.raises(FollowStoppedError, match="ALTER TABLE items ADD COLUMN colour") as info:
        follow_job(store, result.job_id)
    assert "add the column there" in str(info.value)
    with psycopg.connect(target_url) as conn:  # what came before the statement is in
        name = conn.execute(f'SELECT name FROM "{database}".items WHERE id = 1').fetchone()[0]
        assert name == "before"
        conn.execute(f'ALTER TABLE "{database}".items ADD COLUMN colour varchar(10)')
    done = follow_job(store, result.job_id)
    assert done.caught_up and done.changes == 1
    assert_same(mariadb, database, target_url)


def test_a_renamed_table_stops_the_follower(mariadb, shop, target_url, store):
    """RENAME TABLE names no table sqlglot can read: it stops the follower all the same."""
    database = shop.rsplit("/", 1)[1]
    result = copy_database(shop, target_url, CopyOptions(follow=True), store=store)
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        cur.execute("RENAME TABLE orders TO orders_old")
    with pytest.raises(FollowStoppedError, match="RENAME TABLE orders TO orders_old"):
        follow_job(store, result.job_id)


def test_a_table_without_a_key_is_refused(mariadb, target_url, store):
    name = mariadb.create_database("nokey")
    try:
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE notes (body varchar(20))")
            cur.execute("INSERT INTO notes VALUES ('a'), ('b')")
            conn.commit()
        result = copy_database(mariadb.url(name), target_url, CopyOptions(follow=True),
                               store=store)  # fmt: skip
        assert result.status == "succeeded"
        with pytest.raises(InvalidInputError, match="notes has no primary key"):
            follow_job(store, result.job_id)
    finally:
        mariadb.drop_database(name)


def test_a_copy_without_follow_cannot_be_followed(mariadb, shop, target_url, store):
    result = copy_database(shop, target_url, CopyOptions(), store=store)
    with pytest.raises(InvalidInputError, match="not started with --follow"):
        follow_job(store, result.job_id)


def test_a_killed_follower_process_resumes_exactly_once(
    mariadb, shop, target_url, store, pg_server, tmp_path
):
    """`workbench follow JOB` killed (SIGKILL) after it committed some batches: the next run
    goes on from the last committed batch; the target equals the source."""
    import subprocess
    import sys
    import time

    database = shop.rsplit("/", 1)[1]
    result = copy_database(shop, target_url, CopyOptions(follow=True), store=store)
    writer = Writer(mariadb, database, seed=4)
    with mariadb.connect(database) as conn, conn.cursor() as cur:
        for _ in range(1500):
            writer.step(cur)
            conn.commit()
    env = {
        **os.environ,
        "WORKBENCH_DATABASE_URL": store.settings.database_url.reveal(),
        "WORKBENCH_DATA_DIR": str(tmp_path / "data"),
        "WORKBENCH_USER": store.user,
    }
    command = [str(Path(sys.executable).parent / "workbench"), "follow", str(result.job_id),
               "--batch", "2"]  # fmt: skip

    def applied() -> int:
        with psycopg.connect(target_url, autocommit=True) as conn:
            if not conn.execute("SELECT to_regclass('_workbench.follow_positions')").fetchone()[0]:
                return 0
            row = conn.execute("SELECT changes_applied FROM _workbench.follow_positions").fetchone()
            return row[0] if row else 0

    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while applied() == 0:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the follower committed nothing in a minute"
        time.sleep(0.05)
    proc.kill()
    proc.wait(10)
    at_kill = applied()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "caught up:" in done.stdout and "yes" in done.stdout
    assert 0 < at_kill < applied()
    assert_same(mariadb, database, target_url)


def test_a_cutover_stops_writes_catches_up_validates_and_measures_the_downtime(
    mariadb, shop, target_url, store
):
    """The application writes through its own login while the copy runs and after it;
    `cutover --read-only` stops those writes, applies what is left, builds the deferred
    foreign key, validates every partition, and says how long writes were stopped."""
    from workbench.engine.cutover import cutover

    database = shop.rsplit("/", 1)[1]
    with mariadb.connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'App-Pw-5'")
        cur.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{database}`.* TO 'app'@'%'")
    writer = Writer(mariadb, database, seed=5, login=("app", "App-Pw-5")).start()
    try:
        options = CopyOptions(follow=True, partition_rows=500, max_rows_per_second=4_000)
        copied = copy_database(shop, target_url, options, store=store)
        assert copied.status == "succeeded"
        follow_job(store, copied.job_id)  # the follower runs while the application writes
        result = cutover(store, copied.job_id, read_only=True)
        writer.thread.join(10)
    finally:
        writer.close()
        with mariadb.connect() as conn, conn.cursor() as cur:
            cur.execute("SET GLOBAL read_only = OFF")
    assert writer.refused and "read-only" in writer.refused, writer.refused
    assert result.validated and result.tables == 2 and not result.constraints_failed
    assert result.downtime_seconds is not None and 0 < result.downtime_seconds < 120
    assert_same(mariadb, database, target_url)
    with psycopg.connect(target_url) as conn:  # the foreign key the copy deferred is built
        (fks,) = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f'"
            " AND conrelid = %s::regclass", (f'"{database}".orders',),
        ).fetchone()  # fmt: skip
    assert fks == 1


def test_a_cutover_with_a_difference_stops_and_names_it(mariadb, shop, target_url, store):
    from workbench.engine.cutover import cutover
    from workbench.errors import ValidationFailedError

    database = shop.rsplit("/", 1)[1]
    copied = copy_database(shop, target_url, CopyOptions(follow=True), store=store)
    with psycopg.connect(target_url) as conn:  # a row the follower would never fix
        conn.execute(f"UPDATE \"{database}\".items SET name = 'tampered' WHERE id = 5")
    with pytest.raises(ValidationFailedError, match="items") as info:
        cutover(store, copied.job_id)
    partitions = info.value.fields["partitions"]
    assert any(partitions.values()), partitions
    assert "--follow" not in str(info.value)  # followed: no writes to blame


def test_changes_go_through_the_copys_transforms_and_masks(
    mariadb, shop, target_url, store, pg_server
):
    """A masked, transformed table is followed: each change lands as the copy would have
    written that row (compared with a fresh copy of the source, same project, same salt)."""
    database = shop.rsplit("/", 1)[1]
    rules = {"items": {"name": {"mask": {"kind": "hash"}}, "amount": {"default": 0}}}
    writer = Writer(mariadb, database, seed=5).start()
    try:
        options = CopyOptions(follow=True, partition_rows=400, batch_rows=200,
                              max_rows_per_second=2_000, transforms=rules)  # fmt: skip
        result = copy_database(shop, target_url, options, store=store)
    finally:
        writer.close()
    assert result.status == "succeeded", result.summary()
    followed = follow_job(store, result.job_id)
    assert followed.caught_up and followed.tables.get("items", 0) > 0

    fresh = pg_server.url(pg_server.create_database("wbfresh"))
    try:
        again = copy_database(shop, fresh, CopyOptions(transforms=rules), store=store)
        assert again.status == "succeeded"
        for table, key in (("items", "id"), ("orders", "order_id")):
            query = f'SELECT * FROM "{database}"."{table}" ORDER BY {key}'
            with psycopg.connect(target_url) as a, psycopg.connect(fresh) as b:
                followed_rows = a.execute(query).fetchall()
                copied_rows = b.execute(query).fetchall()
            assert len(followed_rows) == len(copied_rows), table
            assert followed_rows == copied_rows, table
        with psycopg.connect(target_url) as conn:
            names = [n for (n,) in conn.execute(f'SELECT name FROM "{database}".items')]
        assert not any(n.startswith(("item ", "new ")) for n in names)  # masked, all of them
    finally:
        pg_server.drop_database(fresh.rsplit("/", 1)[1])


def test_the_follow_widget_shows_the_lag_turn_after_turn_and_cuts_over(
    mariadb, shop, target_url, store
):
    from workbench.widgets.follow import FollowWidget

    database = shop.rsplit("/", 1)[1]
    result = copy_database(shop, target_url, CopyOptions(follow=True), store=store)
    writer = Writer(mariadb, database, seed=7).start()
    widget = FollowWidget(result.job_id, store=store, every=0.2)
    widget.view()
    widget.start()
    try:
        deadline = time.monotonic() + 60
        while len(widget.turns) < 3:
            assert time.monotonic() < deadline and widget.error is None, widget.lag.value
            time.sleep(0.1)
    finally:
        writer.close()
    assert "behind</b>" in widget.lag.value and "changes/s" in widget.lag.value
    assert any(t.changes for t in widget.turns) and "items" in widget.tables.value
    widget.read_only.value = False  # the module's server stays writable for the next tests
    done = widget.cut_over()
    assert not widget.is_running and done.validated
    assert "cut over</b>" in widget.lag.value and "write downtime" in widget.lag.value
    assert_same(mariadb, database, target_url)


def test_a_unique_value_moved_between_rows_in_one_batch_still_applies(
    mariadb, target_url, store, caplog
):
    """A batch is applied by its net effect (one DELETE and multi-row upserts per table); where
    that breaks a target constraint the source's own order satisfies (an e-mail address moved
    from one row to another through a third value), the batch is applied change by change."""
    name = mariadb.create_database("unique")
    try:
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE people (id int PRIMARY KEY, email varchar(40) UNIQUE)")
            cur.executemany(
                "INSERT INTO people VALUES (%s, %s)", [(i, f"p{i}@x") for i in range(1, 51)]
            )
            conn.commit()
        result = copy_database(mariadb.url(name), target_url, CopyOptions(follow=True),
                               store=store)  # fmt: skip
        assert result.status == "succeeded"
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.execute("UPDATE people SET email = 'moving' WHERE id = 1")
            cur.execute("UPDATE people SET email = 'p1@x' WHERE id = 2")
            cur.execute("UPDATE people SET email = 'p2@x' WHERE id = 1")
            cur.execute("UPDATE people SET id = 100 WHERE id = 3")  # a key moves
            cur.execute("INSERT INTO people VALUES (3, 'new3@x')")  # and its old key returns
            cur.execute("DELETE FROM people WHERE id = 4")
            cur.execute("INSERT INTO people VALUES (4, 'p4@x')")
            cur.execute("DELETE FROM people WHERE id = 5")
            conn.commit()
        with caplog.at_level("INFO", logger="workbench.engine.follow"):
            done = follow_job(store, result.job_id)
        assert done.caught_up and done.changes == 8
        assert any("change by change" in r.getMessage() for r in caplog.records)
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.execute("SELECT id, email FROM people ORDER BY id")
            source = [tuple(r) for r in cur.fetchall()]
        with psycopg.connect(target_url) as conn:
            target = conn.execute(f'SELECT id, email FROM "{name}".people ORDER BY id').fetchall()
        assert target == source and (100, "p3@x") in target and (5, "p5@x") not in target
    finally:
        mariadb.drop_database(name)


def test_a_batch_is_applied_by_its_net_effect(mariadb, target_url, store, caplog):
    """Many changes to the same keys in one batch: the target ends as the source, set-based."""
    name = mariadb.create_database("net")
    try:
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL)")
            cur.executemany("INSERT INTO counters VALUES (%s, 0)", [(i,) for i in range(1, 21)])
            conn.commit()
        result = copy_database(mariadb.url(name), target_url, CopyOptions(follow=True),
                               store=store)  # fmt: skip
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            for step in range(1, 31):
                cur.execute("UPDATE counters SET n = n + 1 WHERE id <= %s", (step % 20 + 1,))
                if step % 7 == 0:
                    cur.execute("DELETE FROM counters WHERE id = %s", (step,))
                if step % 9 == 0:
                    cur.execute("INSERT INTO counters VALUES (%s, %s)", (100 + step, -step))
                conn.commit()
        with caplog.at_level("INFO", logger="workbench.engine.follow"):
            done = follow_job(store, result.job_id, batch_changes=10_000)
        assert done.caught_up
        assert not any("change by change" in r.getMessage() for r in caplog.records)
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.execute("SELECT id, n FROM counters ORDER BY id")
            source = [tuple(r) for r in cur.fetchall()]
        with psycopg.connect(target_url) as conn:
            target = conn.execute(f'SELECT id, n FROM "{name}".counters ORDER BY id').fetchall()
        assert target == source
    finally:
        mariadb.drop_database(name)


def test_changes_the_source_cascades_without_logging_them_arrive(mariadb, target_url, store):
    """MariaDB applies foreign keys' ON DELETE/ON UPDATE actions inside the engine and writes
    only the parent's change to the binary log; the follower applies the same actions to the
    target, both while the target has no foreign keys yet (before its first catch-up) and
    after they were built (where a key change applied as delete + insert would be refused)."""
    name = mariadb.create_database("family")
    try:
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            for statement in FAMILY:
                cur.execute(statement)
            for statement, rows in family_rows():
                cur.executemany(statement, rows)
            conn.commit()
        result = copy_database(mariadb.url(name), target_url, CopyOptions(follow=True),
                               store=store)  # fmt: skip
        assert result.status == "succeeded"
        for round_, base in enumerate((1000, 2000)):
            with mariadb.connect(name) as conn, conn.cursor() as cur:
                family_changes(cur, base)
                conn.commit()
            touched: dict = {}
            done = follow_job(store, result.job_id, touched=touched)
            assert done.caught_up
            if round_ == 0:  # the target's foreign keys, ON UPDATE CASCADE included, now hold
                assert done.constraints_built == 4 and not done.constraints_failed
            # rows changed by actions are named by no change: a cut-over checks them all again
            assert all(("*",) in touched[t] for t in ("child", "grandchild", "note", "ref"))
            plan = replan(store, result.job_id)[0]
            again = recheck(plan, ValidationReport(ok=True, tables=[], partitions=[]), touched)
            assert {tp.source.name for tp in again.tables} >= {"child", "grandchild", "ref"}
            for table, key in FAMILY_TABLES:
                source, target = _rows(mariadb, name, target_url, table, key)
                assert target == source, (round_, table)
    finally:
        mariadb.drop_database(name)


class SakilaWriter(Writer):
    """Sakila's own kinds of transactions: a rental and its payment, films changed (ENUM, SET,
    TEXT; a trigger keeps film_text in step), customers' and actors' keys changed (payments,
    rentals and film_actor follow by ON UPDATE CASCADE), rentals deleted (their payments
    lose them by ON DELETE SET NULL), a staff picture (BLOB), an address.
    """

    def __init__(self, server: MySQLServer, database: str, seed: int) -> None:
        super().__init__(server, database, seed)
        self.customers, self.actors = list(range(1, 600)), list(range(1, 201))
        self.next_id = 1_000  # Sakila's keys are SMALLINT UNSIGNED

    def step(self, cur) -> None:
        rng, kind = self.rng, self.rng.randrange(7)
        self.next_id += 1
        n = self.next_id
        if kind == 0:
            customer = rng.choice(self.customers)
            cur.execute(
                "INSERT INTO rental (rental_date, inventory_id, customer_id, staff_id) VALUES"
                " (NOW() - INTERVAL %s SECOND, %s, %s, %s)",
                (n, rng.randrange(1, 4582), customer, rng.randrange(1, 3)),
            )
            cur.execute(
                "INSERT INTO payment (customer_id, staff_id, rental_id, amount, payment_date)"
                " VALUES (%s, %s, LAST_INSERT_ID(), %s, NOW())",
                (customer, rng.randrange(1, 3), Decimal(rng.randrange(99, 1199)) / 100),
            )
        elif kind == 1:
            cur.execute(
                "UPDATE film SET rating = %s, special_features = %s, description ="
                " CONCAT(description, '!'), rental_rate = rental_rate + 0.01 WHERE film_id = %s",
                (rng.choice(["G", "PG", "R"]),
                 rng.choice(["", "Trailers", "Trailers,Deleted Scenes"]), rng.randrange(1, 1001)),
            )  # fmt: skip
        elif kind == 2:
            old = self.customers.pop(rng.randrange(len(self.customers)))
            cur.execute("UPDATE customer SET customer_id = %s WHERE customer_id = %s", (n, old))
            self.customers.append(n)
        elif kind == 3:
            old = self.actors.pop(rng.randrange(len(self.actors)))
            cur.execute("UPDATE actor SET actor_id = %s WHERE actor_id = %s", (n, old))
            self.actors.append(n)
        elif kind == 4:
            cur.execute("DELETE FROM rental WHERE rental_id = %s", (rng.randrange(1, 16050),))
        elif kind == 5:
            cur.execute("UPDATE staff SET picture = %s WHERE staff_id = %s",
                        (rng.randbytes(rng.randrange(0, 300)), rng.randrange(1, 3)))  # fmt: skip
        else:
            cur.execute(
                "UPDATE address SET phone = %s, district = %s WHERE address_id = %s",
                (str(n), rng.choice(["Québec", "Łódź", "東京"]), rng.randrange(1, 604)),
            )


def test_sakila_changed_before_during_and_after_the_copy_arrives_intact(
    mariadb, datasets, target_url, store
):
    """Sakila, written to by its own kinds of transactions before, during and after a
    throttled copy: after the follower and the cut-over, every table validates (counts and
    checksums of every column, per partition) and every foreign key, built after, holds."""
    from workbench.engine.cutover import cutover

    name = mariadb.create_database("sakila")
    try:
        skip = {"CREATE SCHEMA sakila;": "", "DROP SCHEMA IF EXISTS sakila;": "", "USE sakila;": ""}
        mariadb.run_sql_file(datasets / "sakila-mysql-schema.sql", name, {**skip, "sakila.": ""})
        mariadb.run_sql_file(datasets / "sakila-mysql-data.sql", name, skip)
        writer = SakilaWriter(mariadb, name, seed=11).start()
        try:
            threading.Event().wait(0.5)  # before the copy
            options = CopyOptions(follow=True, partition_rows=2_000, max_rows_per_second=15_000)
            copied = copy_database(mariadb.url(name), target_url, options, store=store)
            assert copied.status == "succeeded", copied.summary()
            threading.Event().wait(1.0)  # after it
        finally:
            written = writer.close()
        assert writer.refused is None and written > 100, (written, writer.refused)
        result = cutover(store, copied.job_id)
        assert result.validated and not result.constraints_failed, result
        assert result.tables >= 16
        # keys and the columns foreign-key actions changed, row by row: the source's
        for table, columns in (("payment", "payment_id, customer_id, rental_id"),
                               ("rental", "rental_id, inventory_id, customer_id"),
                               ("film_actor", "actor_id, film_id"),
                               ("customer", "customer_id, store_id, active")):  # fmt: skip
            query = f"SELECT {columns} FROM {{}}{table} ORDER BY {columns}"
            with mariadb.connect(name) as conn, conn.cursor() as cur:
                cur.execute(query.format(""))
                source = [tuple(r) for r in cur.fetchall()]
            with psycopg.connect(target_url) as conn:
                target = [tuple(r) for r in conn.execute(query.format(f'"{name}".'))]
            assert target == source, table
    finally:
        mariadb.drop_database(name)


def test_changed_values_land_as_the_copy_loads_them(mariadb, target_url, store):
    """The change stream holds stored values (a BOOL's 0/1, a SET's members, a BIT, a TIME
    span, a POINT after its SRID); the copy reads them through SQL. Rows the follower inserts
    land exactly as the copied rows with the same values."""
    name = mariadb.create_database("values")
    values = [(0, "0", "00:00:01.5", "", "POINT(1 2)"), (1, "1", "23:59:59.999", "y,x", None),
              (None, None, None, None, "POINT(-3.5 4)")]  # fmt: skip
    insert = "INSERT INTO odd VALUES (%s, %s, b%s, %s, %s, ST_PointFromText(%s), 7)"
    try:
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE odd (id int PRIMARY KEY, flag tinyint(1), b bit(1), t time(3),"
                " s set('y','x'), g point, n int)"
            )
            for i, row in enumerate(values):
                cur.execute(insert.replace("b%s", "%s" if row[1] is None else "b%s"), (i, *row))
            conn.commit()
        options = CopyOptions(follow=True, type_options={"time_as": "time"})
        result = copy_database(mariadb.url(name), target_url, options, store=store)
        assert result.status == "succeeded"
        query = f'SELECT id, flag, b, t, s, g, n FROM "{name}".odd ORDER BY id'
        with psycopg.connect(target_url) as conn:
            copied = conn.execute(query).fetchall()
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            for i, row in enumerate(values):  # the same values, through the change stream
                cur.execute(insert.replace("b%s", "%s" if row[1] is None else "b%s"),
                            (10 + i, *row))  # fmt: skip
            cur.execute("UPDATE odd SET n = 8")  # and every row changed (set-based, in order)
            conn.commit()
        assert follow_job(store, result.job_id).caught_up
        with psycopg.connect(target_url) as conn:
            landed = conn.execute(query).fetchall()
        assert [r[1:6] for r in landed[3:]] == [r[1:6] for r in copied]  # inserted
        assert [r[1:6] for r in landed[:3]] == [r[1:6] for r in copied]  # updated
        assert copied[1][1:5] == (True, True, dt.time(23, 59, 59, 999000), ["y", "x"])
        assert copied[0][5][:1] == b"\x01" and all(r[6] == 8 for r in landed)
    finally:
        mariadb.drop_database(name)


def test_lag_returns_to_zero_after_a_burst(mariadb, shop, target_url, store):
    """A burst of writes puts the follower behind; turns catch up, and once nothing new has
    come it reports 0 seconds behind (what `workbench jobs` and the monitor show)."""
    database = shop.rsplit("/", 1)[1]
    result = copy_database(shop, target_url, CopyOptions(follow=True), store=store)
    assert follow_job(store, result.job_id).caught_up
    with mariadb.connect(database) as conn, conn.cursor() as cur:  # the burst
        for i in range(300):
            cur.execute("UPDATE items SET amount = amount + 1 WHERE id = %s", (i % 2000 + 1,))
            cur.execute("INSERT INTO orders VALUES (%s, %s, 1)", (500_000 + i, i % 2000 + 1))
            conn.commit()
    time.sleep(1.5)
    behind = follow_job(store, result.job_id, max_transactions=100)  # one short turn
    assert not behind.caught_up and behind.seconds_behind >= 1.0
    # the changes read ahead of the applier and not applied yet: shown as waiting
    assert 0 < behind.changes_behind <= 600 - behind.changes
    shown = jobs.get_job(store, result.job_id).statistics["follow"]
    assert shown["changes_behind"] == behind.changes_behind
    from workbench.monitoring.metrics import JobCollector

    gauges = {m.name: m for m in JobCollector(store).collect()}
    assert gauges["workbench_follow_changes_behind"].samples[0].value == behind.changes_behind
    from click.testing import CliRunner

    from workbench.cli import main

    env = {
        "WORKBENCH_DATABASE_URL": store.settings.database_url.reveal(),
        "WORKBENCH_DATA_DIR": str(store.settings.data_dir),
        "WORKBENCH_USER": store.user,
    }
    listed = CliRunner().invoke(main, ["jobs"], env=env).output  # fmt: skip
    assert f"{behind.changes_behind:,} waiting" in listed, listed
    turns = 0
    while not follow_job(store, result.job_id).caught_up:
        turns += 1
        assert turns < 10
    idle = follow_job(store, result.job_id)
    assert idle.caught_up and idle.changes == 0 and idle.seconds_behind == 0.0
    shown = jobs.get_job(store, result.job_id).statistics["follow"]
    assert shown["seconds_behind"] == 0.0 and shown["changes_behind"] == 0
    assert_same(mariadb, database, target_url)


def test_timestamps_land_in_utc_whatever_the_targets_time_zone(mariadb, target_url, store):
    """A MariaDB TIMESTAMP is an instant (the binlog holds its UTC seconds); the copy writes it
    in a UTC session. A target whose sessions start in another time zone (a per-database or
    server default) must not shift the rows the follower writes."""
    name = mariadb.create_database("zones")
    target_db = psycopg.conninfo.conninfo_to_dict(target_url)["dbname"]
    try:
        with psycopg.connect(target_url, autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE \"{target_db}\" SET timezone TO 'Asia/Kolkata'")
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")
            cur.execute("CREATE TABLE events (id int PRIMARY KEY, at timestamp(3) NULL,"
                        " local datetime(3))")  # fmt: skip
            cur.execute("INSERT INTO events VALUES (1, '2024-03-01 10:00:00.250',"
                        " '2024-03-01 10:00:00.250')")  # fmt: skip
            conn.commit()
        result = copy_database(mariadb.url(name), target_url, CopyOptions(follow=True),
                               store=store)  # fmt: skip
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")
            cur.execute("INSERT INTO events VALUES (2, '2024-03-01 10:00:00.250',"
                        " '2024-03-01 10:00:00.250')")  # fmt: skip
            cur.execute("UPDATE events SET at = '2024-07-01 23:30:00' WHERE id = 1")
            conn.commit()
        assert follow_job(store, result.job_id).caught_up
        with psycopg.connect(target_url) as conn:
            conn.execute("SET timezone TO 'UTC'")
            rows = conn.execute(
                f'SELECT id, at::text, local::text FROM "{name}".events ORDER BY id'
            ).fetchall()
        assert rows == [(1, "2024-07-01 23:30:00+00", "2024-03-01 10:00:00.25"),
                        (2, "2024-03-01 10:00:00.25+00", "2024-03-01 10:00:00.25")]  # fmt: skip
    finally:
        mariadb.drop_database(name)


def test_generated_columns_follow_as_the_copy_made_them(mariadb, target_url, store):
    """MariaDB computes VIRTUAL and STORED columns itself; the target holds what the copy made
    of them, and the follower's rows land the same way."""
    name = mariadb.create_database("generated")
    try:
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE g (id int PRIMARY KEY, a int, b int,"
                        " total int AS (a + b) VIRTUAL, twice int AS (a * 2) STORED)")  # fmt: skip
            cur.execute("INSERT INTO g (id, a, b) VALUES (1, 1, 2), (2, 3, 4)")
            conn.commit()
        result = copy_database(mariadb.url(name), target_url, CopyOptions(follow=True),
                               store=store)  # fmt: skip
        assert result.status == "succeeded"
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO g (id, a, b) VALUES (3, 5, 6)")
            cur.execute("UPDATE g SET a = 10 WHERE id = 1")
            cur.execute("DELETE FROM g WHERE id = 2")
            conn.commit()
        assert follow_job(store, result.job_id).caught_up
        source, target = _rows(mariadb, name, target_url, "g", "id")
        assert target == source == [(1, 10, 2, 12, 20), (3, 5, 6, 11, 10)]
    finally:
        mariadb.drop_database(name)


def test_a_target_that_restarts_is_waited_for_and_nothing_applies_twice(mariadb, shop, store):
    """The target goes away while the follower runs (here: down when it starts, back 1.5 s
    later): it retries with backoff, says so in the job's log, and goes on from the position
    the target committed."""
    from tests.servers import start_private_postgres, stop_private_postgres

    database = shop.rsplit("/", 1)[1]
    target = start_private_postgres(Path("/tmp") / f"wbfollowtgt-{os.getpid()}" / "data")
    try:
        url = target.url(target.create_database("t"))
        result = copy_database(shop, url, CopyOptions(follow=True), store=store)
        writer = Writer(mariadb, database, seed=21).start()
        threading.Event().wait(1.0)
        written = writer.close()
        target.stop()
        back = threading.Timer(1.5, target.start)
        back.start()
        done = follow_job(store, result.job_id)
        back.join()
        assert done.caught_up and 0 < done.transactions <= written
        logs = [e.message for e in jobs.job_logs(store, result.job_id)]
        assert any("retried after losing the target" in m for m in logs), logs
        assert_same(mariadb, database, url)
        again = follow_job(store, result.job_id)
        assert again.changes == 0 and again.changes_total == done.changes_total
    finally:
        stop_private_postgres(target)


def test_the_cutover_moves_sequences_past_every_row_followed(mariadb, target_url, store):
    """The first catch-up sets the target's sequences past the rows then; inserts followed
    after it move the maxima on, and the applications' first insert into the target after the
    cut-over must not collide with them."""
    from workbench.engine.cutover import cutover

    name = mariadb.create_database("serial")
    try:
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE tickets (id int AUTO_INCREMENT PRIMARY KEY, v int)")
            cur.executemany("INSERT INTO tickets (v) VALUES (%s)", [(i,) for i in range(5)])
            conn.commit()
        result = copy_database(mariadb.url(name), target_url, CopyOptions(follow=True),
                               store=store)  # fmt: skip
        assert follow_job(store, result.job_id).caught_up  # sequences set past 5 here
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.executemany("INSERT INTO tickets (v) VALUES (%s)", [(i,) for i in range(10)])
            conn.commit()
        done = cutover(store, result.job_id)
        assert done.validated and done.sequences_set == 1 and not done.constraints_failed
        with psycopg.connect(target_url) as conn:
            (new,) = conn.execute(
                f'INSERT INTO "{name}".tickets (v) VALUES (99) RETURNING id'
            ).fetchone()
        assert new == 16
    finally:
        mariadb.drop_database(name)


def copied_then_followed(mariadb, target_url, store, name, columns, values, select):
    """Table ``t`` of database ``name`` (``columns`` after its ``id int PRIMARY KEY``) with
    the ``values`` rows written before a --follow copy and again, ids from 10, after it:
    (copied, followed), each row's ``select`` (over ``t``) as the target holds it; the copied
    ones read before the follower runs, which could overwrite them."""
    insert = f"INSERT INTO t VALUES ({', '.join(['%s'] * (len(values[0]) + 1))})"
    with mariadb.connect(name) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE t (id int PRIMARY KEY, {columns})")
        cur.executemany(insert, [(i, *v) for i, v in enumerate(values)])
        conn.commit()
    result = copy_database(mariadb.url(name), target_url, CopyOptions(follow=True), store=store)
    assert result.status == "succeeded", result.summary()
    query = f'SELECT {select} FROM "{name}".t t ORDER BY id'
    with psycopg.connect(target_url) as conn:
        copied = [tuple(r) for r in conn.execute(query)]
    with mariadb.connect(name) as conn, conn.cursor() as cur:
        cur.executemany(insert, [(10 + i, *v) for i, v in enumerate(values)])
        conn.commit()
    assert follow_job(store, result.job_id).caught_up
    with psycopg.connect(target_url) as conn:
        followed = [tuple(r) for r in conn.execute(query)][len(values) :]
    return result.job_id, copied, followed


def test_time_spans_land_as_the_copy_loads_them(mariadb, target_url, store):
    """MySQL's TIME spans -838:59:59..838:59:59; the copy loads its text into an interval's
    time part. A followed span lands with the same text (not as days and a time)."""
    name = mariadb.create_database("spans")
    spans = ["-838:59:59.000000", "838:59:59.999999", "12:34:56.789000", "00:00:00", None]
    try:
        _, copied, followed = copied_then_followed(
            mariadb, target_url, store, name, "s time(6)", [(t,) for t in spans], "s::text"
        )
        assert followed == copied
        assert copied[0][0] == "-838:59:59"
    finally:
        mariadb.drop_database(name)


def test_every_type_followed_lands_as_the_copy_loads_it(mariadb, target_url, store):
    """The same rows of every column type the reader knows (integers of each width and sign,
    floats, DECIMALs, zero and real dates, DATETIME/TIMESTAMP fractions, YEAR, strings of two
    charsets, TEXT, JSON, ENUM, SET, BIT, TIME, POINT), once copied and once followed: the
    target holds the same text for both."""
    from tests.connectors.test_binlog_rows import EVERY, OTHER, _every_row

    name = mariadb.create_database("types")

    def write(first: int) -> None:
        rng = random.Random(7)  # the same values each time
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_mode = ''")  # zero dates
            cur.execute("SET time_zone = '+00:00'")
            for k in range(1, 81):
                row = _every_row(k, rng)
                cur.execute(f"INSERT INTO every VALUES ({', '.join(['%s'] * 31)})",
                            (first + k, *row[1:]))  # fmt: skip
            cur.executemany(
                "INSERT INTO other VALUES (%s, %s, %s, %s, %s, %s, %s, ST_PointFromText(%s))",
                [(first + k, "text " * k, '{"k": [1, "é"]}', "ab"[k % 2], "x,y" if k % 2 else "",
                  k, "-838:59:59.000" if k % 3 else "12:00:00.5", f"POINT({k} {-k / 3})")
                 for k in range(1, 21)],
            )  # fmt: skip
            conn.commit()

    try:
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.execute(EVERY)
            cur.execute(OTHER)
        write(0)
        result = copy_database(mariadb.url(name), target_url, CopyOptions(follow=True),
                               store=store)  # fmt: skip
        assert result.status == "succeeded", result.summary()
        write(1000)
        assert follow_job(store, result.job_id).caught_up
        with psycopg.connect(target_url) as conn:
            conn.execute("SET TimeZone = 'UTC'")
            for table in ("every", "other"):
                rows = conn.execute(
                    f"SELECT id, to_jsonb(r) - 'id' FROM \"{name}\".{table} r ORDER BY id"
                ).fetchall()
                copied = [r[1] for r in rows if r[0] < 1000]
                followed = [r[1] for r in rows if r[0] >= 1000]
                assert len(followed) == len(copied) > 0, table
                for k, (mine, theirs) in enumerate(zip(followed, copied, strict=True)):
                    assert mine == theirs, (table, k + 1, mine, theirs)
    finally:
        mariadb.drop_database(name)


def test_wide_charsets_followed_land_as_the_copy_loads_them(mariadb, target_url, store):
    """ucs2, utf16, utf16le and utf32 store code units of a fixed width (big-endian but
    utf16le): the library decoded them little-endian, giving reversed text or bytes. Copied
    and followed, the same values land equal."""
    name = mariadb.create_database("wide")
    values = [("héllo ", "ab ", "x😀 y", "lé ", "ü", "Жж"), ("", "", "", "", "", ""),
              ("Ωmega", "😀😀", "tab\there", "中文", "ß", "Ёё"), (None,) * 6]  # fmt: skip
    columns = ("a varchar(10) CHARACTER SET ucs2, b char(5) CHARACTER SET utf16,"
               " c varchar(10) CHARACTER SET utf32, d varchar(5) CHARACTER SET utf16le,"
               " e char(4) CHARACTER SET utf8mb3, f varchar(5) CHARACTER SET cp1251")  # fmt: skip
    try:
        _, copied, followed = copied_then_followed(
            mariadb, target_url, store, name, columns, values, "to_jsonb(t) - 'id'"
        )
        assert followed == copied
        assert copied[0][0] == {"a": "héllo ", "b": "ab   ", "c": "x😀 y", "d": "lé ",
                                "e": "ü   ", "f": "Жж"}  # fmt: skip
    finally:
        mariadb.drop_database(name)


def test_binary_values_followed_land_as_the_copy_loads_them(mariadb, target_url, store):
    """BINARY(n) is padded with zero bytes, which the binary log leaves out; VARBINARY,
    BLOB and CHAR ... CHARACTER SET binary keep theirs. Copied and followed: equal."""
    name = mariadb.create_database("binary")
    values = [(b"ab", b"x\x00", b"blob\x00", b"z"), (b"", b"", b"", b""),
              (b"\x00\x01\x02\x03", b"\xff" * 5, bytes(range(256)), b"abc"),
              (None,) * 4]  # fmt: skip
    try:
        _, copied, followed = copied_then_followed(
            mariadb, target_url, store, name,
            "a binary(4), v varbinary(5), l blob, c char(3) CHARACTER SET binary", values,
            "a, v, l, c",
        )  # fmt: skip
        assert followed == copied and copied[0][0] == b"ab\x00\x00"
    finally:
        mariadb.drop_database(name)


def test_mariadb_uuid_and_inet_followed_land_as_the_copy_loads_them(mariadb, target_url, store):
    """MariaDB's UUID, INET6 and INET4 types are logged as their binary storage (16, 16 and
    4 bytes); the copy reads their text. Copied and followed: equal."""
    from workbench.engine.cutover import cutover

    name = mariadb.create_database("uuids")
    values = [("123e4567-e89b-12d3-a456-426614174000", "2001:db8::1", "10.0.0.1"),
              ("00000000-0000-0000-0000-000000000000", "::ffff:1.2.3.4", "255.255.255.255"),
              ("f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "fe80::1:2", "0.0.0.0"),
              (None, None, None)]  # fmt: skip
    try:
        job_id, copied, followed = copied_then_followed(
            mariadb, target_url, store, name, "u uuid, six inet6, four inet4", values,
            "u::text, host(six), host(four)",
        )  # fmt: skip
        assert followed == copied and copied[0] == values[0]
        assert cutover(store, job_id).validated  # the checksums of both sides agree
    finally:
        mariadb.drop_database(name)


def test_the_enum_error_value_follows_the_jobs_option(mariadb, target_url, store):
    """MySQL stores an invalid ENUM value as '' (index 0) outside strict mode; the copy turns
    it into NULL by default (enum_invalid='null'), and so does the follower, whose rows then
    also pass the CHECK the copy adds."""
    name = mariadb.create_database("enums")
    insert = "INSERT INTO e VALUES (%s, %s)"
    try:
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_mode = ''")
            cur.execute("CREATE TABLE e (id int PRIMARY KEY, mood enum('ok', 'sad'))")
            cur.executemany(insert, [(1, "ok"), (2, "nonsense"), (3, None)])
            conn.commit()
        result = copy_database(mariadb.url(name), target_url, CopyOptions(follow=True),
                               store=store)  # fmt: skip
        with mariadb.connect(name) as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_mode = ''")
            cur.executemany(insert, [(11, "ok"), (12, "nonsense"), (13, None)])
            cur.execute("UPDATE e SET mood = 'other' WHERE id = 1")
            conn.commit()
        done = follow_job(store, result.job_id)
        assert done.caught_up and not done.constraints_failed  # the CHECK holds
        with psycopg.connect(target_url) as conn:
            rows = conn.execute(f'SELECT id, mood FROM "{name}".e ORDER BY id').fetchall()
        assert rows == [(1, None), (2, None), (3, None), (11, "ok"), (12, None), (13, None)]
    finally:
        mariadb.drop_database(name)
