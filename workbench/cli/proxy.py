"""JupyterLab launcher entries for the dashboards, through jupyter-server-proxy.

``pip install 'workbench[notebook,dashboards]'`` registers them (pyproject entry points
``jupyter_serverproxy_servers``): Lab's launcher gets "Workbench monitor" and "Workbench
report" cards, each starting its server on a free local port the first time it is opened and
serving it under Lab's own URL (``/workbench-monitor/``, ``/workbench-report/``), behind Lab's
login. So the servers skip their own login (Lab's user is the store's user, as in the kernel)
and accept the websocket origin of whatever host Lab is reached by: only Lab's proxy, which
checks origins itself, reaches their loopback port.
"""

from __future__ import annotations

import sys
from typing import Any

from workbench.cli.shipped import shipped_dir


def _icon() -> str:
    return str(shipped_dir("dashboards") / "workbench.svg")


def monitor_server() -> dict[str, Any]:
    """The Panel monitor under ``{base_url}workbench-monitor/``."""
    folder = shipped_dir("dashboards")
    return {
        "command": [
            sys.executable,
            "-m",
            "panel",
            "serve",
            str(folder / "monitor.py"),
            "--address",
            "127.0.0.1",
            "--port",
            "{port}",
            "--allow-websocket-origin",
            "*",
            "--prefix",
            "{base_url}workbench-monitor",
            "--args",
            "--refresh-ms=2000",
            "--signin=none",
        ],
        "absolute_url": True,  # Panel serves under the full path (--prefix)
        "timeout": 60,
        "launcher_entry": {
            "title": "Workbench monitor",
            "icon_path": _icon(),
            "path_info": "workbench-monitor/monitor",
        },
    }


def report_server() -> dict[str, Any]:
    """The Voilà report under ``{base_url}workbench-report/``."""
    from workbench.monitoring.report_access import AUTH_ENV

    report = shipped_dir("dashboards") / "report.ipynb"
    return {
        "command": [
            sys.executable,
            "-m",
            "voila",
            str(report),
            "--no-browser",
            "--port={port}",
            "--Voila.ip=127.0.0.1",
            "--Voila.port_retries=0",
            "--Voila.base_url={base_url}workbench-report/",
            "--strip_sources=True",
            "--template=offline",
            "--VoilaConfiguration.extension_denylist=@pyviz/jupyterlab_pyviz",
            "--VoilaConfiguration.extension_denylist=@jupyterhub/jupyter-server-proxy",
        ],
        # the offline template, and no login of its own: Lab's
        "environment": {"JUPYTER_PATH": str(shipped_dir("dashboards")), AUTH_ENV: "none"},
        "absolute_url": True,
        # Lab's login cookie is Lab's: Voilà would find it invalid and expire it in the
        # browser, logging the user out of Lab. It never reaches Voilà.
        "request_headers_override": {"Cookie": ""},
        "timeout": 90,
        "launcher_entry": {"title": "Workbench report", "icon_path": _icon()},
    }
