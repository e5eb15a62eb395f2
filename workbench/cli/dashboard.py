"""``workbench dashboard monitor|report`` and ``workbench metrics serve``.

The dashboards are files of this checkout (``dashboards/monitor.py`` for Panel,
``dashboards/report.ipynb`` for Voilà) served by their own servers; both read the store
named by the usual settings (``WORKBENCH_DATABASE_URL`` or the embedded one).
"""

from __future__ import annotations

import base64
import importlib.util
import os
import subprocess
import sys
import time

import click

from workbench.cli import state
from workbench.cli.output import emit
from workbench.cli.shipped import shipped_dir
from workbench.errors import ConfigurationError, DriverMissingError
from workbench.store.secrets import SecretCipher

AUTH_MODES = ("store", "oauth", "none")


def websocket_origins(address: str, port: int, extra: tuple[str, ...] = ()) -> list[str]:
    """The browser origins the monitor's websocket accepts (Bokeh refuses any other page).

    On a wildcard address (0.0.0.0, ::) browsers come from other machines, naming this one
    by its host name or any of its addresses: all of them are listed (never "*", which would
    let any web page drive a logged-in user's session); ``extra`` adds what a proxy or a DNS
    alias shows the browser (host[:port])."""
    hosts = {address}
    if address in ("0.0.0.0", "::", ""):
        import socket

        hosts = {"localhost", socket.gethostname(), socket.getfqdn(), *_interface_addresses()}
    origins = [f"{h}:{port}" if ":" not in h else f"[{h}]:{port}" for h in sorted(hosts) if h]
    return [*origins, *extra]


def _interface_addresses() -> set[str]:
    """This machine's IPv4 addresses on every interface (``ip -4 -o addr``), where available."""
    try:
        out = subprocess.run(
            ["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, timeout=5
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return {line.split()[3].split("/")[0] for line in out.splitlines() if len(line.split()) > 3}


def monitor_command(
    port: int,
    address: str = "127.0.0.1",
    refresh_ms: int = 2000,
    auth: str = "store",
    prefix: str = "",
    origins: tuple[str, ...] = (),
) -> list[str]:
    """The ``panel serve`` command line of the monitor (used by the CLI and the tests).

    ``auth``: ``store`` = Panel's login page checked against the store's dashboard passwords
    (provider ``workbench``); ``oauth`` = Panel's OAuth, configured by ``PANEL_OAUTH_*``;
    ``none`` = no login (the server's own user; for a local, single-user monitor).
    """
    if auth not in AUTH_MODES:
        raise ConfigurationError(f"--auth is one of {', '.join(AUTH_MODES)}, got {auth!r}")
    require_extra("panel", "dashboards")
    if auth == "oauth" and not os.environ.get("PANEL_OAUTH_PROVIDER"):
        raise ConfigurationError(
            "--auth oauth needs Panel's OAuth settings: PANEL_OAUTH_PROVIDER (github, azure, "
            "okta, generic, ...), PANEL_OAUTH_KEY and PANEL_OAUTH_SECRET (and "
            "PANEL_OAUTH_REDIRECT_URI behind a proxy); see Panel's authentication guide"
        )
    folder = shipped_dir("dashboards")
    login = (
        ["--oauth-provider", "workbench", "--basic-login-template", str(folder / "login.html")]
        if auth == "store"
        else []
    )
    return [
        sys.executable, "-m", "panel", "serve", str(folder / "monitor.py"),
        "--address", address, "--port", str(port),
        *[f"--allow-websocket-origin={o}" for o in websocket_origins(address, port, origins)],
        *(["--prefix", prefix.strip("/")] if prefix.strip("/") else []),
        *login,
        "--args", f"--refresh-ms={refresh_ms}", f"--signin={auth}",
    ]  # fmt: skip


def require_extra(module: str, extra: str) -> None:
    """A front end whose package is an extra fails with the install line, not a traceback."""
    if importlib.util.find_spec(module) is None:
        raise DriverMissingError(
            f"This needs {module}, which comes with the '{extra}' extra: "
            f"pip install 'workbench[{extra}]' (a worker install leaves it out)"
        )


def report_command(port: int, address: str = "127.0.0.1", auth: str = "store") -> list[str]:
    """The ``voila`` command line of the stakeholder report (sources stripped, no browser).

    ``auth``: ``store`` = a login page checked against the store's dashboard passwords, each
    page's kernel bound to the logged-in user (``monitoring/voila_login.py``); ``none`` = no
    login (the server's own user; for a local, single-user report).
    """
    from workbench.monitoring.report_access import CONFIG_DIR

    if auth not in ("store", "none"):
        raise ConfigurationError(f"the report's --auth is store or none, got {auth!r}")
    require_extra("voila", "dashboards")
    login = [f"--Voila.config_file_paths=['{CONFIG_DIR}']"] if auth == "store" else []
    report = shipped_dir("dashboards") / "report.ipynb"
    return [
        sys.executable, "-m", "voila", str(report), "--no-browser",
        f"--port={port}", f"--Voila.ip={address}", "--Voila.port_retries=0",
        "--strip_sources=True", "--template=offline",
        # Panel's and the server proxy's lab extensions fail to load inside Voilà (console
        # errors) and are unused here
        "--VoilaConfiguration.extension_denylist=@pyviz/jupyterlab_pyviz",
        "--VoilaConfiguration.extension_denylist=@jupyterhub/jupyter-server-proxy",
        *login,
    ]  # fmt: skip


def dashboard_env(cipher: SecretCipher | None = None, report_auth: str = "store") -> dict[str, str]:
    """The environment for the servers: dashboards/ on JUPYTER_PATH (the offline template);
    with the store's ``cipher``, Panel's and Voilà's cookie secrets and Panel's cookie
    encryption key derived from the store's key (stable across restarts, never on a command
    line) unless set; ``report_auth`` tells the report's kernels whether a login is required."""
    paths = [
        str(shipped_dir("dashboards")),
        *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep)),
    ]
    from workbench.monitoring.report_access import AUTH_ENV as REPORT_AUTH_ENV

    env = {**os.environ, "JUPYTER_PATH": os.pathsep.join(paths), REPORT_AUTH_ENV: report_auth}
    if cipher is not None:
        env.setdefault("PANEL_COOKIE_SECRET", cipher.derive("dashboard-cookie-secret"))
        env.setdefault("WORKBENCH_REPORT_COOKIE_SECRET", cipher.derive("report-cookie-secret"))
        key = bytes.fromhex(cipher.derive("dashboard-cookie-encryption"))
        env.setdefault("PANEL_OAUTH_ENCRYPTION", base64.urlsafe_b64encode(key).decode())
    return env


def _serve(command: list[str], url: str, report_auth: str = "store") -> None:
    """Become the server (exec): a service manager's SIGTERM, a terminal's Ctrl-C and its
    exit code are the server's own. (A child process outlived a SIGTERM sent to this one and
    kept the port.)"""
    store = state().store()  # fail here, with the usual one-line error, if it is unreachable
    env = dashboard_env(store.master_cipher, report_auth)
    store.close()
    click.echo(f"Serving {url} (Ctrl-C stops)", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(command[0], command, env)


@click.group("dashboard")
def dashboard() -> None:
    """Serve the monitoring (Panel) or the stakeholder (Voilà) dashboard."""


@dashboard.command("monitor")
@click.option("--port", default=5006, show_default=True)
@click.option("--address", default="127.0.0.1", show_default=True)
@click.option("--refresh-ms", default=2000, show_default=True, help="Refresh period.")
@click.option(
    "--auth",
    type=click.Choice(AUTH_MODES),
    default="store",
    show_default=True,
    help="Login: dashboard passwords from the store, Panel OAuth (PANEL_OAUTH_*), or none.",
)
@click.option(
    "--prefix", default="", help="Serve under this URL path, as a reverse proxy forwards it."
)
@click.option(
    "--origin",
    "origins",
    multiple=True,
    metavar="HOST[:PORT]",
    help="Another origin browsers reach the monitor by (a proxy, a DNS alias); repeatable.",
)
def monitor(
    port: int, address: str, refresh_ms: int, auth: str, prefix: str, origins: tuple[str, ...]
) -> None:
    """Live jobs, per-table progress, rows/s, quarantine, logs, anomalies, history.

    Each user sees their organization's projects only. Set a dashboard password with
    `workbench dashboard password`. With --address 0.0.0.0 browsers on other machines are
    accepted under this machine's names and addresses.
    """
    path = "/" + "/".join(x for x in (prefix.strip("/"), "monitor") if x)
    _serve(
        monitor_command(port, address, refresh_ms, auth, prefix, origins),
        f"http://{address}:{port}{path}",
    )


@dashboard.command("password")
@click.option("--user", default=None, help="Set another member's password (owners only).")
@click.password_option(
    "--password", prompt="Dashboard password", help="Prompted (hidden) when not given."
)
def password(user: str | None, password: str) -> None:
    """Set the password you (or --user) log in to the monitor with; stored as a scrypt hash."""
    from workbench.store import credentials

    store = state().store()
    credentials.set_password(store, password, user)
    who = user or store.user
    emit({"user": who, "password": "set"}, f"Dashboard password of {who!r} set.")


@dashboard.command("report")
@click.option("--port", default=8866, show_default=True)
@click.option("--address", default="127.0.0.1", show_default=True)
@click.option(
    "--auth",
    type=click.Choice(["store", "none"]),
    default="store",
    show_default=True,
    help="Login with dashboard passwords from the store, or none (local, single-user only).",
)
def report(port: int, address: str, auth: str) -> None:
    """Read-only project report: overview, mapping coverage, jobs, validation.

    Each user logs in with their dashboard password (`workbench dashboard password`) and
    sees their organization's projects only; each view is in the audit trail.
    """
    if auth == "none" and address not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigurationError(
            f"--auth none serves every project of the organization to whoever reaches the "
            f"port: it is for local use (--address 127.0.0.1), not {address}"
        )
    _serve(report_command(port, address, auth), f"http://{address}:{port}/", auth)


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
