"""One store per module holding a real finished copy job with quarantined rows."""

from __future__ import annotations

import sqlite3

import pytest

from workbench.config import load_settings
from workbench.engine.run import CopyOptions, copy_database
from workbench.store import open_store


@pytest.fixture(scope="module")
def mon_store(pg_server, tmp_path_factory):
    name = pg_server.create_database("wbmon")
    settings = load_settings(
        database_url=pg_server.url(name), data_dir=tmp_path_factory.mktemp("mondata"), user="t"
    )
    store = open_store(settings)
    yield store
    store.close()
    pg_server.drop_database(name)


@pytest.fixture(scope="module")
def bad_sqlite(tmp_path_factory) -> str:
    """A small SQLite source whose text holds NUL bytes PostgreSQL refuses (-> quarantine)."""
    path = tmp_path_factory.mktemp("bad") / "bad.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany(
            "INSERT INTO item VALUES (?, ?)",
            [(i, f"bad\x00{i}" if i % 100 == 0 else f"item {i}") for i in range(1, 1001)],
        )
        conn.execute("CREATE TABLE tag (id INTEGER PRIMARY KEY, label TEXT)")
        conn.executemany("INSERT INTO tag VALUES (?, ?)", [(i, f"t{i}") for i in range(50)])
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def finished_job(mon_store, bad_sqlite, pg_server):
    name = pg_server.create_database("wbmontgt")
    result = copy_database(
        bad_sqlite,
        pg_server.url(name),
        CopyOptions(workers=1, validate=True),
        store=mon_store,
        project="mon",
    )
    yield result
    pg_server.drop_database(name)
