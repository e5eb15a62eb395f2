"""The worker install: a fresh virtualenv made by scripts/install-worker from the built wheel
holds the workbench core without the notebook and dashboard packages, and a Dask worker run
from it copies a database exactly, at the driver's versions."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.servers import build_worker_venv
from workbench.engine.cluster import worker_problems
from workbench.engine.run import CopyOptions, copy_database

pytestmark = [pytest.mark.slow, pytest.mark.local_cluster]  # builds a wheel, installs a venv

LEFT_OUT = ("jupyterlab", "voila", "panel", "ipywidgets", "papermill")


@pytest.fixture(scope="module")
def worker_venv(tmp_path_factory) -> Path:
    return build_worker_venv(tmp_path_factory.mktemp("worker"))


def test_the_worker_install_leaves_the_front_ends_out(worker_venv):
    for module in LEFT_OUT:
        found = subprocess.run(
            [str(worker_venv / "bin" / "python"), "-c", f"import {module}"], capture_output=True
        )
        assert found.returncode != 0, f"{module} is in the worker install"
    # asked for a dashboard there, the CLI says which extra to install
    done = subprocess.run(
        [str(worker_venv / "bin" / "workbench"), "dashboard", "monitor", "--port", "1"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode != 0
    assert "pip install 'workbench[dashboards]'" in done.stderr, done.stderr[-2000:]


def test_a_worker_from_the_install_copies_exactly(worker_venv, chinook_sqlite, target_url, store):
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster:
        worker = subprocess.Popen(
            [str(worker_venv / "bin" / "dask"), "worker", cluster.scheduler_address,
             "--nthreads", "2", "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            with Client(cluster) as client:
                client.wait_for_workers(1, timeout=120)
                assert worker_problems(client) == (1, [])  # the driver's versions
                result = copy_database(
                    chinook_sqlite, target_url, CopyOptions(), store=store, client=client
                )
        finally:
            worker.kill()
            worker.wait()
    assert result.status == "succeeded" and result.validated and result.rows_copied > 15_000
