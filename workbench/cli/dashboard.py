"""``workbench dashboard monitor|report`` and ``workbench metrics serve``.

The dashboards are files of this checkout (``dashboards/monitor.py`` for Panel,
``dashboards/report.ipynb`` for Voilà) served by their own servers; both read the store
named by the usual settings (``WORKBENCH_DATABASE_URL`` or the embedded one).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import click

from workbench.cli import state
from workbench.cli.output import emit

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"


def monitor_command(port: int, address: str = "127.0.0.1", refresh_ms: int = 2000) -> list[str]:
    """The ``panel serve`` command line of the monitor (used by the CLI and the tests)."""
    return [
        sys.executable, "-m", "panel", "serve", str(DASHBOARDS / "monitor.py"),
        "--address", address, "--port", str(port),
        "--allow-websocket-origin", f"{address}:{port}",
        "--args", f"--refresh-ms={refresh_ms}",
    ]  # fmt: skip


def report_command(port: int, address: str = "127.0.0.1") -> list[str]:
    """The ``voila`` command line of the stakeholder report (sources stripped, no browser)."""
    return [
        sys.executable, "-m", "voila", str(DASHBOARDS / "report.ipynb"), "--no-browser",
        f"--port={port}", f"--Voila.ip={address}", "--Voila.port_retries=0",
        "--strip_sources=True", "--template=offline",
        # Panel's lab extension fails to load inside Voilà (a console error) and is unused here
        "--VoilaConfiguration.extension_denylist=@pyviz/jupyterlab_pyviz",
    ]  # fmt: skip


def dashboard_env() -> dict[str, str]:
    """The environment for the servers: dashboards/ on JUPYTER_PATH (the offline template)."""
    paths = [str(DASHBOARDS), *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
    return {**os.environ, "JUPYTER_PATH": os.pathsep.join(paths)}


def _serve(command: list[str], url: str) -> None:
    state().store()  # fail here, with the usual one-line error, if the store is unreachable
    click.echo(f"Serving {url} (Ctrl-C stops)", err=True)
    try:
        raise SystemExit(subprocess.call(command, env=dashboard_env()))
    except KeyboardInterrupt:
        raise SystemExit(0) from None


@click.group("dashboard")
def dashboard() -> None:
    """Serve the monitoring (Panel) or the stakeholder (Voilà) dashboard."""


@dashboard.command("monitor")
@click.option("--port", default=5006, show_default=True)
@click.option("--address", default="127.0.0.1", show_default=True)
@click.option("--refresh-ms", default=2000, show_default=True, help="Refresh period.")
def monitor(port: int, address: str, refresh_ms: int) -> None:
    """Live jobs, per-table progress, rows/s, quarantine, logs, anomalies, history."""
    _serve(monitor_command(port, address, refresh_ms), f"http://{address}:{port}/monitor")


@dashboard.command("report")
@click.option("--port", default=8866, show_default=True)
@click.option("--address", default="127.0.0.1", show_default=True)
def report(port: int, address: str) -> None:
    """Read-only project report: overview, mapping coverage, jobs, validation."""
    _serve(report_command(port, address), f"http://{address}:{port}/")


@click.group("metrics")
def metrics() -> None:
    """Job metrics for Prometheus."""


@metrics.command("serve")
@click.option("--port", default=9464, show_default=True)
@click.option("--address", default="127.0.0.1", show_default=True)
@click.option("--project", "-p", default=None, help="Only this project's jobs.")
@click.option("--limit", default=50, show_default=True, help="Newest jobs exported.")
@click.option("--once", is_flag=True, help="Print the metrics once instead of serving them.")
def serve(port: int, address: str, project: str | None, limit: int, once: bool) -> None:
    """Serve /metrics (Prometheus text): rows, bytes, errors, duration per job and table."""
    from workbench.monitoring import metrics as job_metrics

    store = state().store()
    if once:
        click.echo(job_metrics.render(store, project, limit), nl=False)
        return
    server, _thread = job_metrics.serve(store, port, address, project=project, limit=limit)
    emit({"url": f"http://{address}:{port}/metrics"}, f"Serving http://{address}:{port}/metrics")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()


commands = [dashboard, metrics]
