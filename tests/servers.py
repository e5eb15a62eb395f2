"""Database servers for the tests: reached by URL, or started privately by the tests.

``WORKBENCH_TEST_PG_URL`` / ``WORKBENCH_TEST_MYSQL_URL`` point the suite at existing servers;
without them PostgreSQL is an embedded ``pgserver`` and MariaDB is the machine's on
127.0.0.1:3306 when it answers, else a private ``mariadbd`` the tests start themselves.
Fault tests (stopping/restarting servers) always use private ones from here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pymysql


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class PostgresServer:
    """A PostgreSQL server; ``url(db)`` gives a URL for one database on it."""

    base_url: str  # postgresql://user@host:port/postgres or a socket URI
    pgdata: Path | None = None
    _server: object | None = None

    def url(self, database: str = "postgres") -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.base_url).set(database=database).render_as_string(hide_password=False)

    def create_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        from workbench.store.tenancy import drop_store_roles

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            drop_store_roles(conn, name)

    # --- private servers only ---------------------------------------------------------
    def stop(self) -> None:
        pid = self._postmaster_pid()
        os.kill(pid, signal.SIGINT)  # fast shutdown
        for _ in range(200):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        raise RuntimeError("private PostgreSQL did not stop")

    def kill(self) -> None:
        os.kill(self._postmaster_pid(), signal.SIGKILL)

    def start(self) -> None:
        """Start a stopped private server again (pgserver caches handles: restart it in place)."""
        import pgserver

        assert self.pgdata is not None
        server = pgserver.get_server(self.pgdata, cleanup_mode=None)
        server.ensure_postgres_running()
        self._server = server

    def _postmaster_pid(self) -> int:
        assert self.pgdata is not None, "only private servers can be stopped"
        return int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])


def start_private_postgres(pgdata: Path) -> PostgresServer:
    import pgserver

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    srv = pgserver.get_server(pgdata, cleanup_mode=None)
    uri = srv.get_uri()
    with psycopg.connect(uri, autocommit=True) as conn:
        # a test server need not survive a power cut: no fsync (DROP DATABASE's forced
        # checkpoint took seconds per test under load). A killed postmaster still loses nothing
        # the kernel holds, so the fault tests keep their meaning.
        conn.execute("ALTER SYSTEM SET fsync = off")
        conn.execute("ALTER SYSTEM SET full_page_writes = off")
        conn.execute("SELECT pg_reload_conf()")
    return PostgresServer(base_url=uri, pgdata=pgdata, _server=srv)


def start_logical_postgres(pgdata: Path) -> PostgresServer:
    """A private PostgreSQL with ``wal_level=logical`` (a restart applies it): a source whose
    changes can be followed through pgoutput."""
    server = start_private_postgres(pgdata)
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET wal_level = logical")
    server.stop()
    server.start()
    return server


# a row-based binary log with every column and its name: what following a MariaDB needs
BINLOG_ARGS = ("--log-bin=binlog", "--binlog-format=ROW", "--binlog-row-image=FULL",
               "--binlog-row-metadata=FULL")  # fmt: skip


def start_binlog_mariadb(base: Path, server_id: int = 11) -> MySQLServer:
    """A private MariaDB under ``base`` that writes a row-based binary log (a source whose
    changes can be followed), with its temporary files in ``base/tmp``: another test's
    clean-up of /tmp once took a temporary table's file."""
    (base / "tmp").mkdir(parents=True, exist_ok=True)
    return start_private_mariadb(
        base, extra_args=[*BINLOG_ARGS, f"--server-id={server_id}", f"--tmpdir={base / 'tmp'}"]
    )


def stop_private_postgres(server: PostgresServer, delete: bool = True) -> None:
    with contextlib.suppress(Exception):
        server.stop()
    if delete and server.pgdata is not None:
        shutil.rmtree(server.pgdata, ignore_errors=True)


@dataclass
class MySQLServer:
    host: str
    port: int
    user: str = "root"
    password: str = ""
    datadir: Path | None = None
    process: subprocess.Popen | None = None

    def url(self, database: str = "") -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"mysql://{auth}@{self.host}:{self.port}/{database}"

    def connect(
        self, database: str | None = None, autocommit: bool = True, **kw
    ) -> pymysql.connections.Connection:
        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=database,
            charset="utf8mb4",
            autocommit=autocommit,
            **kw,
        )

    def create_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        return name

    def drop_database(self, name: str) -> None:
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")

    def run_sql_file(
        self, path: Path, database: str | None = None, replace: dict | None = None
    ) -> None:
        """Run a SQL script with the ``mariadb`` client (handles DELIMITER, triggers, views)."""
        text = Path(path).read_text(encoding="utf-8")
        for old, new in (replace or {}).items():
            text = text.replace(old, new)
        cmd = [
            mysql_client(),
            "-u",
            self.user,
            "-h",
            self.host,
            "-P",
            str(self.port),
            "--default-character-set=utf8mb4",
        ]
        if self.password:
            cmd.append(f"-p{self.password}")
        if database:
            cmd.append(database)
        subprocess.run(cmd, input=text.encode(), check=True, capture_output=True)

    def stop(self) -> None:
        assert self.process is not None, "only private servers can be stopped"
        self.process.terminate()
        self.process.wait(30)


def mysql_client() -> str:
    for name in ("mariadb", "mysql"):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("The MariaDB client is not installed: apt-get install mariadb-client")


def start_private_mariadb(
    base: Path,
    port: int | None = None,
    extra_args: Sequence[str] = (),
    host: str = "127.0.0.1",
    prefix: Sequence[str] = (),
) -> MySQLServer:
    """A private ``mariadbd`` under ``base`` on ``port`` (a free one by default);
    ``extra_args`` are more server options (``--ssl-cert=...``, ``--require-secure-transport``).
    It listens on ``host``, and is started by ``prefix`` (``["ip", "netns", "exec", NS]``: on
    another host of tests/cluster).
    """
    install = shutil.which("mariadb-install-db")
    server_bin = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
    if not install or not Path(server_bin).exists():
        raise RuntimeError(
            "No MariaDB reachable at WORKBENCH_TEST_MYSQL_URL or 127.0.0.1:3306, and no "
            "mariadb-install-db/mariadbd to start one: apt-get install mariadb-server"
        )
    datadir = base / "data"
    base.mkdir(parents=True, exist_ok=True)
    if not datadir.exists():
        subprocess.run(
            [
                install,
                "--no-defaults",
                f"--datadir={datadir}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )
    port = port or free_port()
    proc = subprocess.Popen(
        [
            *prefix,
            server_bin,
            "--no-defaults",
            f"--datadir={datadir}",
            f"--socket={base}/sock",
            f"--port={port}",
            f"--bind-address={host}",
            "--user=root",
            f"--pid-file={base}/pid",
            f"--log-error={base}/err.log",
            "--max-connections=500",
            "--innodb-buffer-pool-size=256M",
            *extra_args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not port_open(host, port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"private MariaDB did not start; see {base}/err.log")
        time.sleep(0.1)
    return MySQLServer(host, port, datadir=datadir, process=proc)


def debian_postgres_bin() -> Path:
    """The newest Debian PostgreSQL's bin folder (ICU collations; pgserver's build has none)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    if not found:
        raise RuntimeError(
            "Debian's PostgreSQL server is not installed (needed for ICU collations): "
            "apt-get install postgresql"
        )
    return found[-1].parent


def start_private_icu_postgres(
    base: Path,
    host: str = "127.0.0.1",
    prefix: Sequence[str] = (),
    trust_network: str | None = None,
) -> PostgresServer:
    """A private Debian PostgreSQL on a free port whose default collation is ICU (English).

    Runs as the ``postgres`` OS user when started as root (initdb refuses root); listens on
    ``host``, trusting 127.0.0.1 and ``trust_network`` (a CIDR) only; started by ``prefix``
    (``["ip", "netns", "exec", NS]``: on another host of tests/cluster); stopped with
    :func:`stop_private_icu_postgres`.
    """
    bindir = debian_postgres_bin()
    base.mkdir(parents=True, exist_ok=True)
    datadir = base / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust",
         "--encoding=UTF8", "--locale-provider=icu", "--icu-locale=en", "--locale=C.UTF-8"],
        check=True, capture_output=True,
    )  # fmt: skip
    if trust_network:
        with (datadir / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {trust_network} trust\n")
    port = free_port()
    subprocess.run(
        [*prefix, *as_user, str(bindir / "pg_ctl"), "-D", str(datadir), "-w", "-l",
         str(base / "log"), "-o", f"-p {port} -k {base} -c listen_addresses={host} -c fsync=off",
         "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    url = f"postgresql://postgres@{host}:{port}/postgres"
    return PostgresServer(base_url=url, pgdata=datadir)


def stop_private_icu_postgres(server: PostgresServer) -> None:
    assert server.pgdata is not None
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(
        [*as_user, str(debian_postgres_bin() / "pg_ctl"), "-D", str(server.pgdata), "-m", "fast",
         "stop"],
        capture_output=True,
    )  # fmt: skip
    shutil.rmtree(server.pgdata.parent, ignore_errors=True)


REPO = Path(__file__).resolve().parents[1]


def build_wheel(work: Path) -> Path:
    """The workbench's wheel, built from a copy of this checkout under ``work`` (the checkout
    gets no build/ or egg-info)."""
    source = work / "src"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(".git", ".venv*", "tests", "*.egg-info", "build", "dist",
                                      "__pycache__", ".mypy_cache", ".ruff_cache"),
    )  # fmt: skip
    wheels = work / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    return next(wheels.glob("workbench-*.whl"))


def _uv() -> Path | None:
    """The uv of the tests' own environment (the dev extra installs it), if there."""
    found = Path(sys.executable).parent / "uv"
    return found if found.exists() else None


def pip_install(venv: Path, *requirements: str, timeout: float = 900) -> None:
    """Install ``requirements`` into the virtualenv ``venv`` at constraints.txt's versions:
    by uv where the tests' environment has it (a sixth of pip's time: these installs were
    the suite's slowest set-ups), else by the venv's pip."""
    uv = _uv()
    if uv is not None:
        # compiled as pip does: a first start would otherwise compile every module it imports
        command = [str(uv), "pip", "install", "-q", "--compile-bytecode", "--python",
                   str(venv / "bin" / "python")]  # fmt: skip
    else:
        command = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    done = subprocess.run(
        [*command, "-c", str(REPO / "constraints.txt"), *requirements],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


def install_worker(venv: Path, wheel: Path) -> Path:
    """The documented worker install: scripts/install-worker puts ``wheel`` into ``venv``
    (with the tests' uv, as the script does with any uv it is given)."""
    uv = _uv()
    done = subprocess.run(
        [str(REPO / "scripts" / "install-worker"), str(venv), str(wheel)],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, **({"UV": str(uv)} if uv else {})},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "worker install ok" in done.stdout
    return venv


def build_worker_venv(work: Path) -> Path:
    """The wheel (:func:`build_wheel`) installed by scripts/install-worker into ``work/venv``."""
    return install_worker(work / "venv", build_wheel(work))


def install_bare_dask(venv: Path) -> Path:
    """A Dask environment without the workbench (distributed at the driver's version only):
    a worker someone started from the wrong environment."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip_install(venv, "distributed")
    return venv
