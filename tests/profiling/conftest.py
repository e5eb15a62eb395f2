"""Profiling fixtures: a writable Chinook copy, a PostgreSQL target, open connectors."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.connectors import connect


@pytest.fixture
def chinook_copy(datasets, tmp_path) -> str:
    """A Chinook file this test may change."""
    target = tmp_path / "chinook.sqlite"
    shutil.copy(Path(datasets) / "chinook.sqlite", target)
    return f"sqlite:///{target}"


@pytest.fixture
def target_url(pg_server) -> Iterator[str]:
    name = pg_server.create_database("wbprof")
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture
def connector_for():
    opened = []

    def make(url: str):
        c = connect(url)
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.close()
