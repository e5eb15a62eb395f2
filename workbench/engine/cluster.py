"""The Dask cluster a job runs on: an existing scheduler by address, or a local one.

No home-made pool: a LocalCluster of worker processes (one thread each, since the work is
CPU-bound Arrow/CSV encoding plus database I/O) sized to the machine by default.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from workbench.connectors.sealed import (
    ENV_KEY,
    SealedUrl,
    needs_sealing,
    process_key,
    reveal,
    seal,
    shared_key,
)
from workbench.errors import CannotConnectError, ConfigurationError, InvalidInputError
from workbench.urls import kind_of, mask_url, parse_url

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)


def default_workers() -> int:
    """The CPUs this process may use, by its affinity mask and its cgroup's CPU quota (a
    2-CPU pod on a 64-core node gets 2 workers, not 64). Dask's ``dask.system.CPU_COUNT``
    reads the same, but importing ``dask`` cost a job run on threads 0.07 s."""
    if hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count() or 1
    quota = _cgroup_cpus()
    return max(1, min(count, quota) if quota else count)


def _cgroup_cpus(
    root: Path = Path("/sys/fs/cgroup"), membership: Path = Path("/proc/self/cgroup")
) -> int | None:
    """CPUs of the cgroup's quota, rounded up; None without one (v2 ``cpu.max``, v1 CFS)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        group = membership.read_text().strip().split(":")[-1].lstrip("/")
        quota, period = (root / group / "cpu.max").read_text().split()
        return None if quota == "max" else math.ceil(int(quota) / int(period))
    for folder in ("cpu,cpuacct", "cpuacct,cpu", "cpu"):
        with contextlib.suppress(OSError, ValueError):
            quota_us = int((root / folder / "cpu.cfs_quota_us").read_text())
            period_us = int((root / folder / "cpu.cfs_period_us").read_text())
            return math.ceil(quota_us / period_us) if quota_us > 0 else None
    return None


@contextlib.contextmanager
def dask_client(
    address: str | None = None, workers: int | None = None, timeout: float = 15.0
) -> Iterator[Client]:
    """A connected ``distributed.Client``; a local cluster is started and stopped around it.
    ``timeout``: seconds to wait for a scheduler at ``address``."""
    from distributed import Client, LocalCluster

    if address:
        _check_tls_settings(address)
        try:
            client = Client(address, timeout=f"{timeout}s")
        except (OSError, TimeoutError) as exc:
            raise CannotConnectError(
                f"Cannot reach the Dask scheduler at {address}: {exc}. Check the address "
                "(WORKBENCH_DASK_ADDRESS / --dask) or leave it empty for a local cluster."
            ) from exc
        _forward_worker_logs(client)
        try:
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(
        n_workers=workers or default_workers(),
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        # the key that opens the job's sealed URLs, handed to our own workers directly
        env={ENV_KEY: process_key().decode()},
        # the driver reports a failed task itself, once, with the fix; workers stay quiet
        silence_logs=logging.CRITICAL,
    )
    client = Client(cluster)
    _forward_worker_logs(client)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


TLS_SETTINGS = (
    "DASK_DISTRIBUTED__COMM__TLS__CA_FILE, DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT and "
    "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY (or distributed.comm.tls.* in Dask's config file)"
)


def _check_tls_settings(address: str) -> None:
    """A ``tls://`` scheduler is reached with Dask's own TLS settings: say which are missing."""
    if not address.startswith("tls://"):
        return
    from distributed.security import Security

    if Security().get_connection_args("client")["ssl_context"] is None:
        raise ConfigurationError(
            f"The Dask scheduler {address} speaks TLS, and no client certificate is set: set "
            f"{TLS_SETTINGS} to the files its administrators gave you, or pass a connected "
            "distributed.Client (client=) built with its Security"
        )


def _forward_worker_logs(client: Client) -> None:
    """With -v/-vv the workers' workbench logs (partitions started, retried, committed,
    quarantined) reach this process's log, as if the tasks ran here."""
    level = logging.getLogger("workbench").getEffectiveLevel()
    if level <= logging.INFO:
        client.forward_logging("workbench", level=level)


def _versions_probe() -> Callable[[], dict[str, str]]:
    """A function naming what a partition task needs and at which version. It is made here,
    nested, so that Dask sends it by value: a worker without the workbench can answer it."""

    def probe() -> dict[str, str]:
        import platform
        from importlib.metadata import PackageNotFoundError, version

        found = {"python": ".".join(platform.python_version_tuple()[:2])}
        for package in ("workbench", "pyarrow", "psycopg", "connectorx"):
            try:
                found[package] = version(package)
            except PackageNotFoundError:
                found[package] = "missing"
        return found

    return probe


def installed_versions() -> dict[str, str]:
    return _versions_probe()()


def worker_problems(client: Client) -> tuple[int, list[str]]:
    """(workers, problems): each worker whose Python or packages differ from the driver's,
    named with what to install."""
    here = installed_versions()
    answers = client.run(_versions_probe(), on_error="return")
    problems = []
    for worker, got in sorted(answers.items()):
        if isinstance(got, BaseException):
            problems.append(f"worker {worker} could not answer: {type(got).__name__}: {got}")
            continue
        wrong = [f"{k} {got.get(k)} (driver: {v})" for k, v in here.items() if got.get(k) != v]
        if got.get("workbench") == "missing":
            problems.append(
                f"worker {worker} has no workbench (its Python cannot import it): install the "
                f"worker's environment with `scripts/install-worker DIR workbench-"
                f"{here['workbench']}-py3-none-any.whl` (the driver's version) and start the "
                "worker from it (DIR/bin/dask worker ...)"
            )
        elif wrong:
            pins = " ".join(f"{k}=={v}" for k, v in here.items() if k != "python")
            problems.append(
                f"worker {worker} has {', '.join(wrong)}; install the driver's versions in its "
                f"environment (pip install {pins}) or run the driver at the workers' versions"
            )
    return len(answers), problems


def _reach_probe(
    url: str | SealedUrl, label: str, options: dict[str, Any], timeout: float
) -> str | None:
    """Run on a worker: None when it connects to ``url`` as a job's task would, else why not."""
    from workbench.connectors import check_url

    try:
        check_url(reveal(url), label, connect_timeout=timeout, options=options)
    except Exception as exc:  # reported, named, by the driver
        return f"{type(exc).__name__}: {exc}"
    return None


def unreachable_from_workers(
    client: Client, label: str, url: str, options: dict[str, Any], timeout: float = 10.0
) -> list[str]:
    """Each worker that cannot open ``url`` (a real connect from that worker), named with
    what it saw and the fix. The URL travels sealed, as a job's tasks carry it."""
    sealed = seal(url, shared_key() or process_key())
    answers = client.run(_reach_probe, sealed, label, options, timeout, on_error="return")
    problems = []
    for worker, got in sorted(answers.items()):
        if isinstance(got, BaseException):
            got = f"{type(got).__name__}: {got}"
        if got:
            problems.append(
                f"worker {worker} cannot open {label}: {got}. Open a network path from that "
                "host to the server at the URL's address (firewall, DNS, pg_hba.conf / the "
                "login's allowed hosts), or give the connection an address every worker "
                "reaches; a file must sit at the same path on every worker"
            )
    return problems


def local_addresses() -> set[str]:
    """This machine's own addresses (and its names), as a worker's address would show them."""
    names = {"localhost", socket.gethostname(), socket.getfqdn()}
    found = set(names)
    for name in names:
        with contextlib.suppress(OSError):
            found |= {str(info[4][0]).split("%")[0] for info in socket.getaddrinfo(name, None)}
    return found


def remote_workers(client: Client) -> list[str]:
    """Workers on another host than the driver (their addresses)."""
    here = local_addresses()
    workers = client.scheduler_info().get("workers", {})
    return sorted(
        w
        for w in workers
        if (host := urlsplit(w).hostname or "") not in here and not _is_loopback(host)
    )


def urls_workers_cannot_use(urls: dict[str, str], shared_files: bool) -> list[str]:
    """What a worker on another host would resolve differently: the driver's loopback, a Unix
    socket, a local file path (unless declared shared). ``urls``: role -> URL."""
    problems = []
    for role, url in urls.items():
        parsed = parse_url(url)
        kind = kind_of(url)
        host = parsed.host or ""
        socket_dir = str(parsed.query.get("host", "")) or (host if host.startswith("/") else "")
        if kind in FILE_KINDS:
            if not shared_files:
                problems.append(
                    f"the {role} {mask_url(url)} is a path on this machine; put it where every "
                    "worker sees it at the same path and say so (--shared-files), or copy from a "
                    "database server instead"
                )
        elif socket_dir:
            problems.append(
                f"the {role} {mask_url(url)} is reached through a Unix socket ({socket_dir}) "
                "that only this host has; use the server's network address"
            )
        elif not host or host == "localhost" or _is_loopback(host):
            problems.append(
                f"the {role} {mask_url(url)} names this machine's loopback ({host or 'default'})"
                "; workers on other hosts would reach their own: use an address they can reach"
            )
    return problems


FILE_KINDS = {"sqlite", "duckdb", "files"}


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sealing_key(own_cluster: bool, urls: dict[str, str]) -> bytes | None:
    """The key that seals the job's URLs for the scheduler: this process's own for a local
    cluster it started; WORKBENCH_WORKER_KEY for a cluster others run. A password with no
    key to seal it is refused: it would sit in clear in the scheduler's memory."""
    if own_cluster:
        return process_key()
    key = shared_key()
    secret = [role for role, url in urls.items() if needs_sealing(url)]
    if key is None and secret:
        raise ConfigurationError(
            f"The {' and '.join(secret)} URL{'s hold' if len(secret) > 1 else ' holds'} a "
            "password, and this Dask cluster is not "
            f"one the job started: its scheduler would hold the password in clear. Set "
            f"{ENV_KEY} (a Fernet key) alike on this driver and on every worker so that URLs "
            "travel sealed, or use a login without a password (a stored connection's "
            "password is sealed the same way)"
        )
    return key


def check_workers_can_use(client: Client, urls: dict[str, str], shared_files: bool) -> None:
    """Refuse, before anything is copied, URLs that workers on other hosts cannot use."""
    away = remote_workers(client)
    if not away:
        return
    problems = urls_workers_cannot_use(urls, shared_files)
    if problems:
        raise InvalidInputError(
            f"{len(away)} Dask worker(s) run on other hosts ({', '.join(away[:3])}), and "
            + "; ".join(problems)
        )


class BackgroundClient:
    """Starts the cluster in a thread while the job plans (a local cluster takes seconds)."""

    def __init__(self, address: str | None, workers: int | None) -> None:
        import concurrent.futures

        self._context = dask_client(address, workers)
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="wb-cluster")
        self._future = self._pool.submit(self._context.__enter__)

    def client(self) -> Client:
        """The connected client (waits for the start; raises what the start raised)."""
        return self._future.result()

    def close(self) -> None:
        try:
            if self._future.exception() is None:
                self._context.__exit__(None, None, None)
        finally:
            self._pool.shutdown(wait=False)
