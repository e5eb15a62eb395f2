"""Fixtures for store tests: embedded stores in private data dirs, a password-checking server."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.servers import PostgresServer, start_private_postgres, stop_private_postgres
from workbench.config import Settings, load_settings
from workbench.store.embedded import stop_embedded

SCRAM_USER = "wb_scram"
SCRAM_PASSWORD = "Scram-Pw-7f3a9c"


def embedded_data_dir() -> Path:
    """A data dir for an embedded store, outside pytest's tmp tree.

    As root, pgserver runs postgres as the user ``pgserver`` and opens every parent of pgdata
    to it; pytest resets ``/tmp/pytest-of-root`` to 0700 whenever a session starts, which
    would lock the server out of its data mid-test. So embedded stores live in /tmp directly.
    """
    return Path(tempfile.mkdtemp(prefix="wbemb-", dir="/tmp")) / "data"


@pytest.fixture
def embedded_settings() -> Iterator[Settings]:
    """Settings with no database URL: the embedded store in this test's own data dir."""
    settings = load_settings(data_dir=embedded_data_dir(), user="tester")
    yield settings
    stop_embedded(settings)
    shutil.rmtree(settings.data_dir.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def scram_pg() -> Iterator[PostgresServer]:
    """A private PostgreSQL whose pg_hba requires a SCRAM password of every role but the
    superuser (``wb_scram`` and the workbench's own application roles among them).

    pgserver's default is trust over the socket; we create a role with a password and put
    ``local all all scram-sha-256`` in front of the trust lines, after one keeping trust for
    the superuser so the tests can still administer the server, then reload.
    """
    base = Path("/tmp") / f"wbscram-{os.getpid()}"
    server = start_private_postgres(base / "data")
    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {SCRAM_USER} LOGIN PASSWORD '{SCRAM_PASSWORD}'")
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])
        superuser = conn.execute("SELECT current_user").fetchone()[0]
        hba.write_text(
            f"local all {superuser} trust\nlocal all all scram-sha-256\n" + hba.read_text()
        )
        conn.execute("SELECT pg_reload_conf()")
    yield server
    stop_private_postgres(server)
    shutil.rmtree(base, ignore_errors=True)


def scram_url(server: PostgresServer, password: str, database: str = "postgres") -> str:
    from sqlalchemy.engine import make_url

    return (
        make_url(server.url(database))
        .set(username=SCRAM_USER, password=password)
        .render_as_string(hide_password=False)
    )


def owner_engine(store):
    """An engine logged in as the store's owner (bypasses row-level security), for checks."""
    from sqlalchemy import create_engine

    assert store.admin_url is not None
    return create_engine(store.admin_url)
