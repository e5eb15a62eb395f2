"""Fixtures shared by the whole suite: real servers, throwaway databases, shared samples."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.self_contained import OutsideCheckoutGuard
from tests.servers import (
    MySQLServer,
    PostgresServer,
    port_open,
    start_private_mariadb,
    start_private_postgres,
    stop_private_postgres,
)

REPO = Path(__file__).resolve().parents[1]


def datasets_dir() -> Path:
    """The sample databases: ``tests/data`` of this checkout (``WORKBENCH_DATASETS`` overrides)."""
    explicit = os.environ.get("WORKBENCH_DATASETS")
    path = Path(explicit) if explicit else REPO / "tests" / "data"
    if not (path / "chinook.sqlite").exists():
        raise RuntimeError(
            f"Sample datasets not found in {path}: WORKBENCH_DATASETS must name a folder holding "
            "chinook.sqlite and the sakila-*.sql scripts (as tests/data does)"
        )
    return path.resolve()


# Recorded for the whole session: the test that reached outside fails (under pytest-xdist
# too, where a worker's session status does not reach the controller), and
# pytest_sessionfinish fails the run for what was reached outside any test.
OUTSIDE_GUARD = OutsideCheckoutGuard(REPO).install()


@pytest.fixture(autouse=True)
def _stays_inside_the_checkout() -> Iterator[None]:
    before = len(OUTSIDE_GUARD.reached)
    yield
    if len(OUTSIDE_GUARD.reached) > before and not os.environ.get("WORKBENCH_DATASETS"):
        reached = sorted(set(OUTSIDE_GUARD.reached[before:]))
        pytest.fail("this test reached outside its checkout (a fresh clone fails): "
                    + "; ".join(reached[:5]), pytrace=False)  # fmt: skip


def pytest_sessionfinish(session, exitstatus) -> None:
    if OUTSIDE_GUARD.reached and not os.environ.get("WORKBENCH_DATASETS"):
        reached = sorted(set(OUTSIDE_GUARD.reached))
        print("\nThe suite reached outside its checkout (a fresh clone fails):", file=sys.stderr)
        for line in reached[:20]:
            print(f"  {line}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def datasets() -> Path:
    return datasets_dir()


@pytest.fixture(scope="session")
def isolated_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="session")
def shared_dask() -> Iterator[str]:
    """One real Dask cluster (a scheduler and two worker processes) for the whole session.

    In-process jobs reach it through WORKBENCH_DASK_ADDRESS, as a team's cluster is reached,
    instead of starting and stopping a local cluster each (two seconds a job, a hundred jobs).
    Commands run as processes (tests/cli run_process, the notebooks, `make demo`) still start
    their own local cluster, so both ways are tested."""
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0", silence_logs=50, env={WORKER_KEY_ENV: WORKER_KEY},
    )  # fmt: skip
    yield cluster.scheduler_address
    cluster.close()


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch, tmp_path_factory, request) -> None:
    """No test reads the developer's config file or writes into their data directory."""
    home = tmp_path_factory.getbasetemp() / "wbhome"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("WORKBENCH_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(home / "data"))
    for var in (
        "WORKBENCH_DATABASE_URL",
        "WORKBENCH_SECRET_KEY",
        "WORKBENCH_KEY_FILE",
        "WORKBENCH_DASK_ADDRESS",
        "WORKBENCH_USER",
    ):
        monkeypatch.delenv(var, raising=False)
    if "local_cluster" not in request.keywords:
        monkeypatch.setenv("WORKBENCH_DASK_ADDRESS", request.getfixturevalue("shared_dask"))
    # the shared clusters' workers hold this key, as a team's cluster holds its own: URLs
    # with passwords reach them sealed (workbench.connectors.sealed)
    monkeypatch.setenv(WORKER_KEY_ENV, WORKER_KEY)


WORKER_KEY_ENV = "WORKBENCH_WORKER_KEY"
WORKER_KEY = "Vw2vJzE7cH7V0m0f2bq2yQk1R7b8lW6YtM8lq3x5b0A="  # a Fernet key for the test clusters


# --- PostgreSQL --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory) -> Iterator[PostgresServer]:
    url = os.environ.get("WORKBENCH_TEST_PG_URL")
    if url:
        yield PostgresServer(base_url=url)
        return
    # keep the socket path short: unix socket paths are limited to ~100 bytes
    base = Path("/tmp") / f"wbpg-{os.getpid()}"
    server = start_private_postgres(base / "data")
    yield server
    stop_private_postgres(server)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_database(pg_server) -> Iterator[str]:
    """A fresh empty PostgreSQL database for one test; its URL."""
    name = pg_server.create_database("wbt")
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture
def store_url(pg_database) -> str:
    """A fresh database to hold a metadata store."""
    return pg_database


# --- MariaDB ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mysql_server(tmp_path_factory) -> Iterator[MySQLServer]:
    url = os.environ.get("WORKBENCH_TEST_MYSQL_URL")
    if url:
        from sqlalchemy.engine import make_url

        u = make_url(url)
        yield MySQLServer(
            u.host or "127.0.0.1", u.port or 3306, u.username or "root", u.password or ""
        )
        return
    if port_open("127.0.0.1", 3306):
        yield MySQLServer("127.0.0.1", 3306)
        return
    server = start_private_mariadb(Path("/tmp") / f"wbmy-{os.getpid()}")
    yield server
    server.stop()


@pytest.fixture
def mysql_database(mysql_server) -> Iterator[str]:
    name = mysql_server.create_database("wbt")
    yield mysql_server.url(name)
    mysql_server.drop_database(name)


# --- shared samples ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sakila_mysql(mysql_server, datasets) -> Iterator[str]:
    """Sakila loaded into MariaDB under a throwaway name; its URL."""
    name = mysql_server.create_database("sakila")
    # the scripts name their database; load them into the throwaway one instead
    replace = {"CREATE SCHEMA sakila;": "", "DROP SCHEMA IF EXISTS sakila;": "", "USE sakila;": ""}
    mysql_server.run_sql_file(
        datasets / "sakila-mysql-schema.sql", name, {**replace, "sakila.": ""}
    )
    mysql_server.run_sql_file(datasets / "sakila-mysql-data.sql", name, replace)
    yield mysql_server.url(name)
    mysql_server.drop_database(name)


@pytest.fixture(scope="session")
def sakila_pg(pg_server, datasets) -> Iterator[str]:
    """Sakila loaded into PostgreSQL (the jOOQ port); its URL."""
    name = pg_server.create_database("sakila")
    url = pg_server.url(name)
    for script in ("sakila-postgres-schema.sql", "sakila-postgres-data.sql"):
        subprocess.run(
            ["psql", "-q", "-v", "ON_ERROR_STOP=0", "-d", url, "-f", str(datasets / script)],
            check=True,
            capture_output=True,
        )
    yield url
    pg_server.drop_database(name)


@pytest.fixture(scope="session")
def chinook_sqlite(datasets, tmp_path_factory) -> str:
    """A private copy of Chinook (SQLite); its URL."""
    target = tmp_path_factory.mktemp("chinook") / "chinook.sqlite"
    shutil.copy(datasets / "chinook.sqlite", target)
    return f"sqlite:///{target}"


# --- metadata store (tests/store, tests/cli; usable by any test that needs a store) ----------


@pytest.fixture
def store_settings(store_url, tmp_path):
    """Settings for a fresh store in its own database, with a private data dir and key file."""
    from workbench.config import load_settings

    return load_settings(database_url=store_url, data_dir=tmp_path / "wbdata", user="tester")


@pytest.fixture
def store(store_settings):
    """An open, initialised metadata store in a fresh database."""
    from workbench.store import open_store

    opened = open_store(store_settings)
    yield opened
    opened.close()


@pytest.fixture(scope="session", autouse=True)
def _stop_default_embedded_store(tmp_path_factory):
    """Stop the embedded store a test may have started under the isolated default data dir."""
    yield
    from workbench.config import Settings
    from workbench.store.embedded import stop_embedded

    stop_embedded(Settings(data_dir=tmp_path_factory.getbasetemp() / "wbhome" / "data"))


# the same in every import of this module (pytest may load it twice): per process, not random
SOURCE_PASSWORD = f"Sealed-Pw-{os.getpid()}-q7Z"


@pytest.fixture
def secret_source(mysql_server):
    """A MariaDB login with a password (SOURCE_PASSWORD), allowed one small database of
    one table, ``items`` (500 rows)."""
    name = mysql_server.create_database("wbseal")
    user = f"wbseal{uuid.uuid4().hex[:6]}"
    with mysql_server.connect(name) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20))")
        cur.executemany("INSERT INTO items VALUES (%s, %s)", [(i, f"i{i}") for i in range(500)])
        cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{SOURCE_PASSWORD}'")
        cur.execute(f"GRANT SELECT, SHOW VIEW ON `{name}`.* TO '{user}'@'%'")
    yield f"mysql://{user}:{SOURCE_PASSWORD}@{mysql_server.host}:{mysql_server.port}/{name}"
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")
    mysql_server.drop_database(name)


@pytest.fixture
def submitted(monkeypatch) -> list[bytes]:
    """What a Dask scheduler is given: each ``Client.submit``'s arguments, pickled."""
    import pickle

    from distributed import Client

    held: list[bytes] = []
    real = Client.submit

    def spy(self, func, *args, **kwargs):
        held.append(pickle.dumps((args, kwargs)))
        return real(self, func, *args, **kwargs)

    monkeypatch.setattr(Client, "submit", spy)
    return held
