"""Servers started once per session for the browser tests: JupyterLab, Voilà, Panel; a
headless Debian Chromium driven by Playwright; all sharing one store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.servers import free_port
from workbench.cli.dashboard import dashboard_env, monitor_command, report_command
from workbench.config import load_settings
from workbench.store import credentials, jobs, open_store, organizations, projects

SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
TOKEN = "wbtest"
PASSWORDS = {"tester": "Dash-Pw-tester-1", "rita": "Dash-Pw-rita-22"}


@pytest.fixture(scope="session")
def dash_store(pg_server):
    """(store, env) for the servers: a store in its own database and data dir."""
    name = pg_server.create_database("wbdash")
    data_dir = Path(tempfile.mkdtemp(prefix="wbdash-")) / "data"
    settings = load_settings(database_url=pg_server.url(name), data_dir=data_dir, user="tester")
    store = open_store(settings)
    # dashboard logins: tester in "default"; rita only in "rivals", which has a job
    credentials.set_password(store, PASSWORDS["tester"])
    organizations.create_organization(store, "rivals")
    rivals = store.in_organization("rivals")
    organizations.add_member(rivals, "rita", "viewer")
    credentials.set_password(rivals, PASSWORDS["rita"], "rita")
    projects.create_project(rivals, "rivals-secret-project")
    jobs.create_job(rivals, "rivals-secret-project", "copy", {})
    env = {
        **dashboard_env(store.master_cipher),
        "WORKBENCH_DATABASE_URL": pg_server.url(name),
        "WORKBENCH_DATA_DIR": str(data_dir),
        "WORKBENCH_CONFIG": str(data_dir / "none.toml"),
        "WORKBENCH_USER": "tester",  # the store's owner: stores no longer let anyone join
        "PYTHONWARNINGS": "ignore",
    }
    yield store, env
    store.close()
    pg_server.drop_database(name)
    shutil.rmtree(data_dir.parent, ignore_errors=True)


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, f"server for {url} exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} did not answer in {timeout} s") from None
            time.sleep(0.2)


class Server:
    def __init__(self, command: list[str], env: dict, probe: str, log: Path, cwd: Path = REPO):
        self.log = open(log, "w")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=cwd)  # fmt: skip
        _wait_http(probe, self.proc)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("serverlogs")


@pytest.fixture(scope="session")
def lab(dash_store, logs_dir, tmp_path_factory):
    _store, env = dash_store
    settings = tmp_path_factory.mktemp("labsettings")
    overrides = settings / "overrides.json"
    overrides.write_text(
        '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false",'
        ' "checkForUpdates": false},'
        ' "@jupyterlab/extensionmanager-extension:plugin": {"enabled": false}}'
    )
    root = tmp_path_factory.mktemp("labroot")  # a copy: Lab autosaves outputs into notebooks
    for notebook in (REPO / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, root / notebook.name)
    port = free_port()
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--port-retries=0", f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        f"--LabServerApp.app_settings_dir={settings}",
    ] + (["--allow-root"] if os.geteuid() == 0 else [])  # fmt: skip
    server = Server(command, env, f"http://127.0.0.1:{port}/api?token={TOKEN}", logs_dir / "lab")
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def voila(dash_store, logs_dir):
    _store, env = dash_store
    port = free_port()
    # the login page answers without a login (the report itself redirects to it)
    server = Server(report_command(port, auth="store"), env, f"http://127.0.0.1:{port}/login",
                    logs_dir / "voila")  # fmt: skip
    yield f"http://127.0.0.1:{port}/"
    server.stop()


@pytest.fixture(scope="session")
def panel_monitor(dash_store, logs_dir):
    """The monitor as a team serves it: on every interface, under a proxy's path prefix, and
    browsed through this machine's network address (not loopback): the websocket's origin
    check must accept it."""
    _store, env = dash_store
    port = free_port()
    route = subprocess.run(["ip", "-4", "route", "get", "192.0.2.200"], capture_output=True,
                           text=True).stdout.split()  # fmt: skip
    if "src" not in route:
        pytest.fail("this machine has no network address besides loopback (ip -4 route)")
    address = route[route.index("src") + 1]  # the one its default route leaves from
    url = f"http://{address}:{port}/wb/monitor"
    command = monitor_command(port, "0.0.0.0", refresh_ms=700, auth="store", prefix="/wb/")
    server = Server(command, env, url, logs_dir / "panel")
    yield url
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/ensure-chromium (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
    # which resource failed, beside the console's "Failed to load resource"
    pg.on("response", lambda r: pg.console_errors.append(f"{r.status} {r.url}")
          if r.status >= 400 else None)  # fmt: skip
    yield pg
    context.close()
