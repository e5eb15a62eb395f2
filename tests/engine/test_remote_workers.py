"""With workers on another host, URLs they would resolve differently (the driver's loopback,
a Unix socket, a local file) are refused before anything is copied, naming the worker and the
fix. The other host is a network namespace the test builds: a veth link, nothing routed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from workbench.engine.cluster import unreachable_from_workers, urls_workers_cannot_use
from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import InvalidInputError

BIN = Path(sys.executable).parent


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def remote_client() -> Iterator[object]:
    """A scheduler on this host's end of a veth link, one worker in its own namespace."""
    from distributed import Client, LocalCluster

    tag = f"{os.getpid() % 100000}"
    ns, here, there = f"wbns{tag}", f"wbh{tag}", f"wbn{tag}"
    net = f"10.79.{os.getpid() % 250}"
    _ip("netns", "add", ns)
    worker = None
    try:
        _ip("link", "add", here, "type", "veth", "peer", "name", there)
        _ip("link", "set", there, "netns", ns)
        _ip("addr", "add", f"{net}.1/24", "dev", here)
        _ip("link", "set", here, "up")
        _ip("netns", "exec", ns, "ip", "addr", "add", f"{net}.2/24", "dev", there)
        _ip("netns", "exec", ns, "ip", "link", "set", there, "up")
        _ip("netns", "exec", ns, "ip", "link", "set", "lo", "up")
        with LocalCluster(
            n_workers=0, host=f"{net}.1", dashboard_address=f"{net}.1:0", processes=True
        ) as cluster:
            worker = subprocess.Popen(
                ["ip", "netns", "exec", ns, str(BIN / "dask"), "worker",
                 cluster.scheduler_address, "--host", f"{net}.2", "--nthreads", "1",
                 "--no-dashboard"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            with Client(cluster) as client:
                client.wait_for_workers(1, timeout=60)
                yield client
    finally:
        if worker is not None:
            worker.kill()
            worker.wait()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["ip", "link", "del", here], capture_output=True)
        time.sleep(0.1)


@pytest.mark.slow  # builds a network namespace and a cluster
def test_loopback_and_local_files_are_refused_before_copying(
    remote_client, chinook_sqlite, target_url, store
):
    with pytest.raises(InvalidInputError) as caught:
        copy_database(chinook_sqlite, target_url, CopyOptions(), store=store, client=remote_client)
    message = str(caught.value)
    assert "1 Dask worker(s) run on other hosts (tcp://10.79." in message
    assert "is a path on this machine" in message and "--shared-files" in message
    # the test's target is a private server on this host: its socket or its loopback
    assert "the target postgresql://" in message
    assert "Unix socket" in message or "loopback" in message
    with psycopg.connect(target_url) as conn:  # refused while planning: no table was made
        made = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog',"
            " 'information_schema')"
        ).fetchone()[0]
    assert made == 0
    shared = CopyOptions(shared_files=True)
    with pytest.raises(InvalidInputError) as caught:
        copy_database(chinook_sqlite, target_url, shared, store=store, client=remote_client)
    assert "path on this machine" not in str(caught.value)
    assert "the target postgresql://" in str(caught.value)


@pytest.mark.slow  # builds a network namespace and a cluster
def test_a_worker_that_cannot_reach_a_server_is_named(remote_client, secret_source):
    """The worker's host has no route to the driver's MariaDB (its 127.0.0.1 is its own): the
    check connects from the worker, names it, and never shows the password."""
    from tests.conftest import SOURCE_PASSWORD

    said = unreachable_from_workers(remote_client, "Connection 'src'", secret_source, {}, 3.0)
    assert len(said) == 1
    assert said[0].startswith("worker tcp://10.79.") and "cannot open Connection 'src'" in said[0]
    assert "Open a network path from that host" in said[0]
    assert SOURCE_PASSWORD not in said[0]


def test_what_a_remote_worker_cannot_use():
    said = urls_workers_cannot_use(
        {
            "source": "postgresql://u:Pw-1@/shop?host=/tmp/wbstore",
            "target": "postgresql://u@db.example.org:5432/shop",
            "copy": "mysql://root@localhost/shop",
            "file": "sqlite:////data/shop.sqlite",
        },
        shared_files=False,
    )
    assert len(said) == 3
    assert "Unix socket (/tmp/wbstore)" in said[0] and "Pw-1" not in said[0]
    assert "loopback (localhost)" in said[1]
    assert "path on this machine" in said[2]
    assert urls_workers_cannot_use({"t": "postgresql://u@10.0.0.5/x"}, shared_files=False) == []
