"""A store for notebook kernels: its URL and data dir passed through the environment."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO
from workbench.config import load_settings
from workbench.store import open_store

NOTEBOOKS = REPO / "notebooks"


@pytest.fixture(scope="session")
def nb_store(pg_server):
    """(store URL, data dir) of a store shared by the notebook runs of this session."""
    name = pg_server.create_database("wbnb")
    url = pg_server.url(name)
    data_dir = Path(tempfile.mkdtemp(prefix="wbnb-")) / "data"
    open_store(load_settings(database_url=url, data_dir=data_dir)).close()  # create it once
    yield url, data_dir
    pg_server.drop_database(name)


@pytest.fixture
def nb_env(nb_store, monkeypatch) -> dict[str, str]:
    """Kernels started by this test (papermill, nbval, workbench demo) use the shared store."""
    url, data_dir = nb_store
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", url)
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(data_dir))
    monkeypatch.setenv("PYTHONWARNINGS", "ignore")
    return {"WORKBENCH_DATABASE_URL": url, "WORKBENCH_DATA_DIR": str(data_dir)}
