"""The embedded PostgreSQL that holds the store when no ``database_url`` is configured.

``pgserver`` starts PostgreSQL from its wheel in ``settings.pgdata_dir`` (socket only, no TCP
port) and leaves it running (``cleanup_mode=None``) so later runs, kernels and Dask workers
on this host reuse it. Two processes starting it at once are serialised by an exclusive
``fcntl`` lock on ``<data_dir>/store.lock``: pgserver's own check-then-create of the pgdata
folder is not safe against that race.

As root, pgserver runs postgres as a system user and opens every parent folder of pgdata to
it (``chmod go+rx``); so as root the pgdata lives in ``/var/lib/workbench/<hash>/`` instead of
the data dir, which holds the key file and stays owner-only.

Stop the server by hand with ``kill -INT $(head -1 <pgdata>/postmaster.pid)``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from workbench.config import Settings, private_dir
from workbench.errors import CannotConnectError

log = logging.getLogger(__name__)

DATABASE = "workbench"
LOCK_TIMEOUT = 120.0  # seconds: an initdb on a slow disk takes a few; a stuck holder is a bug
ROOT_PGDATA_BASE = Path("/var/lib/workbench")


def embedded_pgdata(settings: Settings) -> Path:
    """Where the embedded server keeps its data for these settings."""
    pgdata = settings.pgdata_dir.expanduser().resolve()
    if os.geteuid() == 0:  # postgres runs as another user: it must not enter the data dir,
        # which holds the key file and stays owner-only (0700); its data goes beside it
        digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
        return ROOT_PGDATA_BASE / digest / "pgdata"
    return pgdata


def start_embedded(settings: Settings) -> str:
    """Start (or reuse) the embedded server; return the URL of its ``workbench`` database."""
    with warnings.catch_warnings():  # "XDG_RUNTIME_DIR is not set": harmless, /tmp fallback
        warnings.simplefilter("ignore")
        import pgserver

    pgdata = embedded_pgdata(settings)
    data_dir = private_dir(settings.data_dir)  # it holds the key file and the lock too
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(data_dir / "store.lock"):
        try:
            server = pgserver.get_server(pgdata, cleanup_mode=None)
            uri = server.get_uri()
        except (subprocess.SubprocessError, OSError, AssertionError) as exc:
            raise CannotConnectError(
                f"Cannot start the embedded PostgreSQL in {pgdata}: {exc}; see {pgdata / 'log'}, "
                "or set WORKBENCH_DATABASE_URL to use another server",
                pgdata=str(pgdata),
            ) from exc
        _ensure_database(uri, DATABASE)
    log.info("embedded PostgreSQL ready in %s", pgdata)
    return _with_database(uri, DATABASE)


def stop_embedded(settings: Settings, timeout: float = 30.0) -> bool:
    """Stop the embedded server if it runs (fast shutdown); True if one was stopped."""
    pid_file = embedded_pgdata(settings) / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return False
    try:
        os.kill(pid, 2)  # SIGINT: fast shutdown
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def file_lock(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """An exclusive lock between processes on this host, held for the ``with`` block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)  # owner-only whatever the umask (000 would leave it 0666)
    with os.fdopen(fd, "r+") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise CannotConnectError(
                        f"Another process has held {path} for {timeout:.0f} s while starting "
                        "the embedded store; stop it, or remove the lock if no workbench runs"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _ensure_database(uri: str, name: str) -> None:
    import psycopg

    with psycopg.connect(uri, autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _with_database(uri: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(uri).set(database=name).render_as_string(hide_password=False)
