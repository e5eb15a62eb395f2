"""Governance fixtures: a metadata store and a target database per test (as in tests/engine)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
