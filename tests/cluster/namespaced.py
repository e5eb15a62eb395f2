"""The namespaced cluster's hosts, for tests/cluster and benchmarks/cluster_bench.py.

Network namespaces on a bridge (``hosts.Network``): ``db`` runs a private MariaDB (TPC-H
loaded, read by a login with a password) and a private PostgreSQL on its link address;
``sched`` a TLS ``dask scheduler``; ``w1`` and ``w2`` ``dask worker``s in mount namespaces of
their own, each from its own worker install of the wheel (scripts/install-worker), seeing no
other host's; ``w3`` has a Dask without the workbench, for the worker someone started from the
wrong environment. No pytest here: a benchmark imports it too.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib.util
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql

from tests.cluster.hosts import Host, Network, make_certificates, start_isolated
from tests.servers import (
    MySQLServer,
    PostgresServer,
    build_wheel,
    install_bare_dask,
    install_worker,
    port_open,
    start_private_icu_postgres,
    start_private_mariadb,
    stop_private_icu_postgres,
)

REPO = Path(__file__).resolve().parents[2]
SOURCE_DB = "tpch"  # the source database, and so the target's schema
SOURCE_USER = "wbsrc"
PASSWORD = f"Cluster-Pw-{os.getpid()}-k4R"  # the source login's: never in the scheduler
SCHEDULER_PORT = 8786
WORKER_TTL = 15  # seconds without a heartbeat before the scheduler drops a worker
RERUN_WITHIN = 120  # seconds: a lost host's partitions are re-run and committed by then


def _load_tpch() -> Any:
    """benchmarks/tpch.py (not a package): generate() and load_mysql() and its TABLES."""
    spec = importlib.util.spec_from_file_location("wb_tpch_benchmark", REPO / "benchmarks/tpch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TPCH = _load_tpch()


@dataclass
class Cluster:
    network: Network
    base: Path  # /var/tmp/wbcluster-<pid>: everything the hosts keep
    venvs: dict[str, Path]  # host -> its own environment (sched runs w1's)
    certs: Path
    hide: list[Path]  # the driver's folders no worker may see
    mysql: MySQLServer
    postgres: PostgresServer
    rows: dict[str, int]  # TPC-H table -> rows in the source
    worker_key: tuple[str, str]  # (variable, Fernet key) the workers open sealed URLs with
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    client: Any = None

    def host(self, name: str) -> Host:
        return self.network.hosts[name]

    def venv(self, name: str) -> Path:
        return self.venvs["w1" if name == "sched" else name]

    @property
    def logs(self) -> Path:
        return self.base / "driver" / "logs"

    @property
    def scheduler_address(self) -> str:
        return f"tls://{self.host('sched').address}:{SCHEDULER_PORT}"

    @property
    def source_url(self) -> str:
        db = self.host("db").address
        return f"mysql://{SOURCE_USER}:{PASSWORD}@{db}:{self.mysql.port}/{SOURCE_DB}"

    def new_target(self) -> str:
        return self.postgres.url(self.postgres.create_database("wbt"))

    @property
    def dask_env(self) -> dict[str, str]:
        """The whole environment of the Dask processes (beside PATH, LANG and HOME)."""
        return {
            self.worker_key[0]: self.worker_key[1],  # the driver's: opens sealed URLs
            "DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True",
            "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "10s",
            "DASK_DISTRIBUTED__COMM__TIMEOUTS__TCP": "15s",  # Dask's least
            "DASK_DISTRIBUTED__SCHEDULER__WORKER_TTL": f"{WORKER_TTL}s",
            "PYTHONWARNINGS": "ignore",
        }

    def _tls(self, name: str) -> list[str]:
        c = self.certs
        return ["--tls-ca-file", str(c / "ca.pem"), "--tls-cert", str(c / f"{name}.pem"),
                "--tls-key", str(c / f"{name}.key")]  # fmt: skip

    def _start(self, name: str, argv: list[str], ready: str) -> None:
        """Start a Dask process on host ``name``; wait until its log says ``ready``."""
        log = self.logs / f"{name}.log"
        since = log.stat().st_size if log.exists() else 0
        own = self.venv(name)
        others = [v.parent for v in self.venvs.values() if v != own]  # no host sees another's
        proc = start_isolated(self.host(name), argv, self.dask_env, [*self.hide, *others], log)
        self.processes[name] = proc
        deadline = time.monotonic() + 90
        while ready not in log.read_bytes()[since:].decode(errors="replace"):
            assert proc.poll() is None, f"{name} ended\n{self._tail(name)}"
            assert time.monotonic() < deadline, f"{name} did not start\n{self._tail(name)}"
            time.sleep(0.2)

    def start_scheduler(self) -> None:
        host = self.host("sched")
        argv = [str(self.venv("sched") / "bin" / "dask"), "scheduler", "--protocol", "tls",
                "--host", host.address, "--port", str(SCHEDULER_PORT), "--no-dashboard",
                *self._tls("sched")]  # fmt: skip
        self._start("sched", argv, "Scheduler at:")
        assert port_open(host.address, SCHEDULER_PORT)  # from the driver, through the bridge

    def start_worker(self, name: str) -> None:
        host = self.host(name)
        argv = [str(self.venv(name) / "bin" / "dask"), "worker", self.scheduler_address,
                "--protocol", "tls", "--host", host.address, "--name", name,
                "--nthreads", "1", "--no-dashboard", "--local-directory", "/tmp/dask",
                *self._tls(name)]  # fmt: skip
        self._start(name, argv, "Registered to:")

    def wait_for_workers(self, names: set[str], timeout: float = 90) -> dict[str, str]:
        """Wait until exactly the workers ``names`` are connected; name -> address."""
        deadline = time.monotonic() + timeout
        while True:
            workers = self.client.scheduler_info(n_workers=-1)["workers"]
            found = {info["name"]: address for address, info in workers.items()}
            if set(found) == names:
                return found
            for name in names:
                proc = self.processes.get(name)
                assert proc is None or proc.poll() is None, self._tail(name)
            assert time.monotonic() < deadline, f"workers {found}, wanted {names}\n" + "\n".join(
                self._tail(n) for n in names
            )
            time.sleep(0.2)

    def connect(self) -> Any:
        """A client of the TLS scheduler, with the driver's certificate."""
        from distributed import Client
        from distributed.security import Security

        security = Security(
            tls_ca_file=str(self.certs / "ca.pem"),
            tls_client_cert=str(self.certs / "driver.pem"),
            tls_client_key=str(self.certs / "driver.key"),
            require_encryption=True,
        )
        return Client(self.scheduler_address, security=security, timeout=30)

    def worker_of(self, name: str) -> str:
        return self.wait_for_workers({"w1", "w2"})[name]

    def _tail(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return f"--- {name}.log ---\n{text[-3000:]}"


def hidden_from_workers(base: Path, venv: Path, extra: list[Path]) -> list[Path]:
    """The folders a worker's mount namespace covers: the checkout (with its siblings, when
    that hides neither the cluster's folder nor the venv's Python), ``extra`` (pytest's
    temporary folder, a benchmark's cache), the driver's files and the database host's; /tmp
    is covered last in any case."""
    python = Path(os.path.realpath(venv / "bin" / "python"))
    checkout = REPO.parent
    if checkout == Path("/") or base.is_relative_to(checkout) or python.is_relative_to(checkout):
        checkout = REPO
    return [checkout, *extra, base / "driver", base / "db", base / "build" / "src"]


def load_source(server: MySQLServer, folder: Path) -> dict[str, int]:
    """The TPC-H files in ``folder`` into the database SOURCE_DB, read by SOURCE_USER (who has
    a password); rows per table."""
    TPCH.load_mysql(server.url(SOURCE_DB), folder)
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE USER '{SOURCE_USER}'@'%' IDENTIFIED BY '{PASSWORD}'")
        cur.execute(f"GRANT SELECT, SHOW VIEW ON `{SOURCE_DB}`.* TO '{SOURCE_USER}'@'%'")
        rows = {}
        for name in TPCH.TABLES:
            cur.execute(f"SELECT count(*) FROM `{SOURCE_DB}`.{name}")
            rows[name] = cur.fetchone()[0]
    return rows


def build_hosts(
    stack: contextlib.ExitStack,
    base: Path,
    tpch_files: Path,
    worker_key: tuple[str, str],
    hide: list[Path],
) -> Cluster:
    """The hosts: db (its MariaDB loaded with the TPC-H files, its PostgreSQL), sched, w1, w2,
    their certificates and the worker install (built while the hosts are), without the Dask
    processes; ``stack`` undoes it all. ``hide``: more of the driver's folders to cover."""
    shutil.rmtree(base, ignore_errors=True)
    (base / "driver" / "logs").mkdir(parents=True)
    (base / "db").mkdir()
    stack.callback(shutil.rmtree, base, ignore_errors=True)
    # the worker install (half a minute of pip) goes on while the hosts are built
    pool = concurrent.futures.ThreadPoolExecutor(1)
    stack.callback(pool.shutdown, wait=True, cancel_futures=True)
    building = pool.submit(install_environments, base)

    network = Network(str(os.getpid()))
    stack.callback(network.close)
    network.create()
    for name in ("db", "sched", "w1", "w2", "w3"):
        network.add_host(name)
    db = network.hosts["db"]
    addresses = {name: h.address for name, h in network.hosts.items()}
    certs = base / "certs"
    make_certificates(certs, {**addresses, "driver": network.driver_address})

    mysql = start_private_mariadb(
        base / "db" / "mariadb", 3306, ["--skip-name-resolve"], host=db.address,
        prefix=db.prefix,
    )  # fmt: skip
    stack.callback(mysql.stop)
    # root may log in over the socket only: an admin for the driver, over the link
    with (
        pymysql.connect(unix_socket=str(base / "db" / "mariadb" / "sock"), user="root") as c,
        c.cursor() as cur,
    ):
        cur.execute("CREATE USER 'wbadmin'@'%'")
        cur.execute("GRANT ALL PRIVILEGES ON *.* TO 'wbadmin'@'%' WITH GRANT OPTION")
    mysql.user = "wbadmin"
    postgres = start_private_icu_postgres(
        base / "db" / "pg", host=db.address, prefix=db.prefix, trust_network=network.cidr
    )
    stack.callback(stop_private_icu_postgres, postgres)
    rows = load_source(mysql, tpch_files)

    venvs = building.result()
    cluster = Cluster(
        network=network,
        base=base,
        venvs=venvs,
        certs=certs,
        hide=hidden_from_workers(base, venvs["w1"], hide),
        mysql=mysql,
        postgres=postgres,
        rows=rows,
        worker_key=worker_key,
    )
    stack.callback(stop_processes, cluster)
    return cluster


def install_environments(base: Path) -> dict[str, Path]:
    """Each worker host's environment, installed side by side: w1's and w2's by
    scripts/install-worker from one built wheel, w3's a Dask without the workbench."""
    wheel = build_wheel(base / "build")
    hosts = base / "hosts"
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        installs = {
            "w1": pool.submit(install_worker, hosts / "w1" / "venv", wheel),
            "w2": pool.submit(install_worker, hosts / "w2" / "venv", wheel),
            "w3": pool.submit(install_bare_dask, hosts / "w3" / "venv"),
        }
        return {name: future.result() for name, future in installs.items()}


def stop_processes(cluster: Cluster) -> None:
    for proc in cluster.processes.values():
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
