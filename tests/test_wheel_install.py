"""Installed from its wheel, outside any checkout, the workbench runs its main job and both
dashboards: the notebooks and dashboards travel in the wheel (share/workbench/)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.servers import REPO, build_wheel, free_port, pip_install

pytestmark = [pytest.mark.slow, pytest.mark.local_cluster]  # builds a wheel and a venv


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel and its notebook and dashboard extras."""
    work = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(work)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip_install(venv, f"{wheel}[all]", timeout=1200)
    return venv


def _env(venv: Path, store_url: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "VIRTUAL_ENV"))}
    env.update(
        PATH=f"{venv / 'bin'}:{env.get('PATH', '')}",
        WORKBENCH_DATABASE_URL=store_url,
        WORKBENCH_DATA_DIR=str(home / "data"),
        WORKBENCH_USER="tester",
        HOME=str(home),
    )
    env.pop("PYTHONPATH", None)
    return env


def _answers(url: str, seconds: float = 90) -> str:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode("utf-8", "replace")
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_demo_and_dashboards_from_the_wheel(installed, store_url, tmp_path):
    away = tmp_path / "elsewhere"  # no checkout here, nor beside the package
    away.mkdir()
    env = _env(installed, store_url, tmp_path)
    exe = str(installed / "bin" / "workbench")
    where = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import workbench; print(workbench.__file__)"],
        capture_output=True, text=True, cwd=away, env=env,
    ).stdout  # fmt: skip
    assert str(installed) in where and str(REPO) not in where

    demo = subprocess.run([exe, "demo", "--output-dir", str(away / "artifacts"), "--workers",
                           "1"], capture_output=True, text=True, cwd=away, env=env,
                          timeout=600)  # fmt: skip
    assert demo.returncode == 0, demo.stderr[-3000:]
    page = (away / "artifacts" / "quickstart.html").read_text()
    assert "succeeded 15607" in page and "validated: True" in page

    # the report is the shipped notebook in the shipped offline template; the monitor the
    # shipped Panel app
    for command, path, shows in (
        ("report", "/", "<title>report</title>"),
        ("monitor", "/monitor", "Workbench · jobs"),
    ):
        port = free_port()
        server = subprocess.Popen(
            [exe, "dashboard", command, "--port", str(port), "--auth", "none"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=away, env=env,
        )  # fmt: skip
        try:
            body = _answers(f"http://127.0.0.1:{port}{path}")
            assert shows in body, body[:500]
        finally:
            server.terminate()
            server.wait(30)
