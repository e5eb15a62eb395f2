"""Fixtures for the connector and schema tests: edge-case databases, users, a scram server."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.connectors.edge_cases import MYSQL_EDGE, PG_EDGE, SQLITE_EDGE
from tests.servers import start_private_postgres, stop_private_postgres


@pytest.fixture(scope="session")
def mysql_edge(mysql_server) -> Iterator[str]:
    """A throwaway MariaDB database holding the MySQL edge-case schema; its URL."""
    name = mysql_server.create_database("wbedge")
    try:
        with mysql_server.connect(name) as conn, conn.cursor() as cur:
            for stmt in MYSQL_EDGE:
                cur.execute(stmt)
        yield mysql_server.url(name)
    finally:
        mysql_server.drop_database(name)


@pytest.fixture(scope="session")
def pg_edge(pg_server) -> Iterator[str]:
    name = pg_server.create_database("wbedge")
    url = pg_server.url(name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            for stmt in PG_EDGE:
                conn.execute(stmt)
        yield url
    finally:
        pg_server.drop_database(name)


@pytest.fixture(scope="session")
def sqlite_edge(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("sqlite_edge") / "edge.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        for stmt in SQLITE_EDGE:
            conn.execute(stmt)
        conn.commit()
    return f"sqlite:///{path}"


@pytest.fixture
def mysql_user(mysql_server) -> Iterator[tuple[str, str, str]]:
    """(user, password, database): a MariaDB user with a password and rights on one database."""
    user, password = f"wbu_{uuid.uuid4().hex[:8]}", "s3cret-pw"
    db = mysql_server.create_database("wbauth")
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
        cur.execute(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY '{password}'")
        cur.execute(f"GRANT SELECT ON `{db}`.* TO '{user}'@'%'")
        cur.execute(f"GRANT SELECT ON `{db}`.* TO '{user}'@'localhost'")
    yield user, password, db
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        cur.execute(f"DROP USER IF EXISTS '{user}'@'localhost'")
    mysql_server.drop_database(db)


@pytest.fixture(scope="session")
def scram_pg() -> Iterator[str]:
    """A private PostgreSQL whose pg_hba.conf requires scram-sha-256; URL with the right
    password (user postgres)."""
    base = Path("/tmp") / f"wbpgs-{os.getpid()}"
    server = start_private_postgres(base / "data")
    password = "right-pw"
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute("SET password_encryption = 'scram-sha-256'")
        conn.execute(f"ALTER USER postgres PASSWORD '{password}'")
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])
        hba.write_text(hba.read_text().replace("trust", "scram-sha-256"))
        conn.execute("SELECT pg_reload_conf()")
    from sqlalchemy.engine import make_url

    url = make_url(server.url("postgres")).set(password=password)
    yield url.render_as_string(hide_password=False)
    stop_private_postgres(server)
    shutil.rmtree(base, ignore_errors=True)


# --- the contract tests: a metadata store and a target database per test -------------------


@pytest.fixture
def store(pg_server, tmp_path) -> Iterator:
    """A metadata store of its own (as the engine tests have), for end-to-end copies."""
    from workbench.config import load_settings
    from workbench.store import open_store

    name = pg_server.create_database("wbstore")
    s = open_store(load_settings(database_url=pg_server.url(name), data_dir=str(tmp_path / "d")))
    yield s
    s.close()
    pg_server.drop_database(name)


@pytest.fixture
def target_url(pg_server) -> Iterator[str]:
    name = pg_server.create_database("wbtarget")
    yield pg_server.url(name)
    pg_server.drop_database(name)
