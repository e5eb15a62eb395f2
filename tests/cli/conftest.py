"""Fixtures for CLI tests: the command run in-process against a fresh store, or as a process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from workbench.cli import main

WORKBENCH = Path(sys.executable).parent / "workbench"


@pytest.fixture
def cli_env(store_url, tmp_path, monkeypatch) -> dict[str, str]:
    """WORKBENCH_* variables pointing the command at a fresh store database."""
    env = {
        "WORKBENCH_DATABASE_URL": store_url,
        "WORKBENCH_DATA_DIR": str(tmp_path / "data"),
        "WORKBENCH_USER": "tester",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def target(pg_server) -> Iterator[str]:
    """An empty target database on the test server (apart from the store's); its URL."""
    name = pg_server.create_database("wbtgt")
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture
def run(cli_env) -> Callable[..., Result]:
    """Run ``workbench ARGS`` in-process; stdout and stderr apart."""

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def run_process(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run the installed ``workbench`` console script as a real process."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    full_env.update(env)
    return subprocess.run(
        [str(WORKBENCH), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
