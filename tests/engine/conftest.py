"""Engine fixtures: a metadata store and a target database per test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import start_private_icu_postgres, stop_private_icu_postgres
from workbench.config import load_settings
from workbench.store import Store, open_store


@pytest.fixture
def store(pg_server, tmp_path) -> Iterator[Store]:
    name = pg_server.create_database("wbstore")
    settings = load_settings(database_url=pg_server.url(name), data_dir=str(tmp_path / "data"))
    s = open_store(settings)
    yield s
    s.close()
    pg_server.drop_database(name)


@pytest.fixture
def target_url(pg_server) -> Iterator[str]:
    name = pg_server.create_database("wbtarget")
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture(scope="module")
def debian_pg() -> Iterator[Any]:
    """A private Debian PostgreSQL (ICU default collation, contrib extensions), which
    pgserver's build lacks; one per test module."""
    base = Path("/tmp") / f"wbdeb-{os.getpid()}"
    server = start_private_icu_postgres(base)
    yield server
    stop_private_icu_postgres(server)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def dask_processes(tmp_path_factory):
    """A real `dask scheduler` and two `dask worker` processes (with nannies), started here."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.servers import free_port, port_open

    bindir = Path(sys.executable).parent
    port = free_port()
    work = tmp_path_factory.mktemp("dask")
    from tests.conftest import WORKER_KEY, WORKER_KEY_ENV

    env = {**os.environ, "PYTHONWARNINGS": "ignore", WORKER_KEY_ENV: WORKER_KEY}
    scheduler_log = open(work / "scheduler.log", "w")  # noqa: SIM115 - lives as long as the process
    workers_log = open(work / "workers.log", "w")  # noqa: SIM115
    scheduler = subprocess.Popen(
        [
            str(bindir / "dask"),
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--dashboard-address",
            f"127.0.0.1:{free_port()}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=scheduler_log,
        env=env,
    )
    deadline = time.monotonic() + 30
    while not port_open("127.0.0.1", port):
        assert scheduler.poll() is None and time.monotonic() < deadline, (
            "dask scheduler did not start"
        )
        time.sleep(0.1)
    address = f"tcp://127.0.0.1:{port}"
    workers = subprocess.Popen(
        [
            str(bindir / "dask"),
            "worker",
            address,
            "--host",
            "127.0.0.1",
            "--nworkers",
            "2",
            "--nthreads",
            "1",
            "--no-dashboard",
            "--local-directory",
            str(work),
        ],
        stdout=subprocess.DEVNULL,
        stderr=workers_log,
        env=env,
    )
    from distributed import Client

    with Client(address, timeout=30) as client:
        client.wait_for_workers(2, timeout=60)
    yield address
    workers.terminate()
    scheduler.terminate()
    for proc in (workers, scheduler):
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    scheduler_log.close()
    workers_log.close()


# the connectors' edge-case databases (every row of the type map), shared with the engine tests
from tests.connectors.conftest import mysql_edge, pg_edge, sqlite_edge  # noqa: E402, F401
