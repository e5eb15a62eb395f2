"""Catching a copy up by a monotonic column, for a source without a change stream (SQLite):
updates and inserts since the copy arrive through the copy's transforms and masks, upserted
by key, each run idempotent; deletes are not seen (the stated limit); tables that cannot be
caught up are named."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from click.testing import CliRunner

from workbench.engine.catch_up import catch_up_job
from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import InvalidInputError

pytestmark = pytest.mark.local_cluster


@pytest.fixture
def source(tmp_path) -> tuple[str, sqlite3.Connection]:
    path = tmp_path / "shop.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT,
                            updated_at TIMESTAMP NOT NULL);
        CREATE TABLE logs (id INTEGER PRIMARY KEY, msg TEXT);
        CREATE TABLE notes (msg TEXT);
        """
    )
    conn.executemany(
        "INSERT INTO items VALUES (?, ?, ?, ?)",
        [(i, f"item {i}", f"user{i}@example.com", f"2026-01-01 10:00:{i % 60:02d}")
         for i in range(1, 101)],
    )  # fmt: skip
    conn.executemany("INSERT INTO logs VALUES (?, ?)", [(i, f"log {i}") for i in range(1, 51)])
    conn.execute("INSERT INTO notes VALUES ('a note')")
    conn.commit()
    yield f"sqlite:///{path}", conn
    conn.close()


@pytest.fixture
def target_url(pg_server):
    name = pg_server.create_database("wbcatchup")
    yield pg_server.url(name)
    pg_server.drop_database(name)


def _target(target_url: str, query: str) -> list[tuple]:
    with psycopg.connect(target_url) as conn:
        return conn.execute(query).fetchall()


def test_updates_and_inserts_arrive_through_the_mapping_and_runs_repeat(store, source, target_url):
    url, conn = source
    masks = {"items": {"email": {"mask": {"kind": "hash"}}}}
    result = copy_database(url, target_url, CopyOptions(tables=("items", "logs"),
                                                        transforms=masks), store=store)  # fmt: skip
    assert result.status == "succeeded"
    hashed = dict(_target(target_url, 'SELECT id, email FROM "items"'))
    # the source moves on: updates (moving updated_at), inserts, a delete
    conn.execute("UPDATE items SET name = name || ' (new)', updated_at = '2026-02-01 09:00:00'"
                 " WHERE id IN (3, 30, 60)")  # fmt: skip
    conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?)",
                     [(101, "item 101", "user101@example.com", "2026-02-01 09:00:01")])  # fmt: skip
    conn.execute("DELETE FROM items WHERE id = 7")
    conn.executemany("INSERT INTO logs VALUES (?, ?)", [(51, "log 51"), (52, "log 52")])
    conn.commit()

    caught = catch_up_job(store, result.job_id, {"items": "updated_at", "logs": "id"})
    assert caught.tables["items"] >= 4 and caught.tables["logs"] >= 2
    assert caught.marks["items"].startswith("2026-02-01 09:00:01")
    assert caught.marks["logs"] == "52" and not caught.rejected
    assert "deleted rows" in caught.limits
    names = dict(_target(target_url, 'SELECT id, name FROM "items"'))
    assert names[3] == "item 3 (new)" and names[60] == "item 60 (new)" and names[101] == "item 101"
    assert 7 in names  # the stated limit: a delete is not seen
    emails = dict(_target(target_url, 'SELECT id, email FROM "items"'))
    assert emails[3] == hashed[3] and "@" not in emails[101]  # masked as the copy masked
    assert _target(target_url, 'SELECT count(*) FROM "logs"') == [(52,)]

    again = catch_up_job(store, result.job_id, {"items": "updated_at", "logs": "id"})
    assert again.tables["items"] == 1 and again.tables["logs"] == 1  # only rows at the mark
    assert dict(_target(target_url, 'SELECT id, name FROM "items"')) == names


def test_tables_that_cannot_be_caught_up_are_named(store, source, target_url):
    url, _ = source
    result = copy_database(url, target_url, CopyOptions(), store=store)
    with pytest.raises(InvalidInputError, match="notes cannot be caught up by msg: has no pri"):
        catch_up_job(store, result.job_id, {"notes": "msg"})
    with pytest.raises(InvalidInputError, match="No table can be caught up by 'changed_on'"):
        catch_up_job(store, result.job_id, "changed_on")
    caught = catch_up_job(store, result.job_id, "id")  # every table with an `id`
    assert set(caught.tables) == {"items", "logs"}
    assert "no primary key" in caught.skipped["notes"] or "no column" in caught.skipped["notes"]


def test_the_command_states_the_limits(store, source, target_url):
    from workbench.cli import main

    url, _ = source
    result = copy_database(url, target_url, CopyOptions(tables=("logs",)), store=store)
    env = {
        "WORKBENCH_DATABASE_URL": store.settings.database_url.reveal(),
        "WORKBENCH_DATA_DIR": str(store.settings.data_dir),
        "WORKBENCH_USER": store.user,
    }
    done = CliRunner().invoke(main, ["follow", str(result.job_id), "--by", "id"], env=env)
    assert done.exit_code == 0, done.output
    assert "does not see deleted rows" in done.output and "logs" in done.output


def test_a_same_day_update_arrives_whatever_sqlite3_adapters_a_library_set(
    store, source, target_url, monkeypatch
):
    """nbformat (imported in Jupyter) makes Python's sqlite3 bind datetimes with a 'T'; the mark
    bound so sorted after every value of its own day and the run skipped a later update."""
    import datetime as dt

    url, conn = source
    result = copy_database(url, target_url, CopyOptions(tables=("items",)), store=store)
    assert result.status == "succeeded"
    monkeypatch.setitem(
        sqlite3.adapters, (dt.datetime, sqlite3.PrepareProtocol), lambda v: v.isoformat()
    )
    conn.execute("UPDATE items SET name = 'later', updated_at = '2026-01-01 11:00:00' WHERE id = 5")
    conn.commit()
    caught = catch_up_job(store, result.job_id, "updated_at")
    assert caught.tables["items"] >= 1
    assert dict(_target(target_url, 'SELECT id, name FROM "items"'))[5] == "later"
