"""TPC-H copied on a local Dask cluster and on the namespaced cluster of tests/cluster, in one run.

    python benchmarks/cluster_bench.py [--scale 1] [--repeat 1] [--partition-rows 250000]

The hosts are those tests/cluster builds (network namespaces on a bridge): ``db`` runs a
private MariaDB, loaded with TPC-H, and a private PostgreSQL on its link address. The same
copy (validated, keys built, the workbench's default partitions) runs twice from that
MariaDB into a fresh database of that PostgreSQL, once on each cluster:

- local: a ``distributed.LocalCluster`` as the workbench starts one (2 worker processes x 1
  thread), in the machine's own namespaces; its workers reach ``db`` through the bridge, as
  the driver does;
- namespaced: a TLS ``dask scheduler`` on host ``sched``, ``dask worker --nthreads 1`` on hosts
  ``w1`` and ``w2``, each in a mount namespace of its own, from the wheel's worker install.

Only one of the two clusters runs at a time, started before its copy is timed. Printed: wall
seconds and rows/s of each copy, namespaced/local, the engine's phases, the CPU seconds the
Dask side (driver, scheduler, workers), the db host's servers and the rest of the machine
spent meanwhile (the rest is other work sharing the two cores: it skews the comparison), and
whether the issue's target is met: the namespaced cluster within 15% of local.

TPC-H files are kept in /var/tmp/wbbench-tpch (workers' mount namespaces hide /tmp) and reused;
everything else (namespaces, bridge, servers, databases, the worker install) is removed at
the end, after a failure or Ctrl-C too. Needs root, like tests/cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg
from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
import tpch
from copy_bench import fresh_pg, pg_rows

from tests.cluster.hosts import missing_capability
from tests.servers import (
    PostgresServer,
)
from workbench.connectors.sealed import ENV_KEY

CACHE = Path("/var/tmp/wbbench-tpch")  # not /tmp: the workers' mount namespaces cover it
WORKERS = 2  # x 1 thread, on either cluster
TARGET_RATIO = 0.85  # the target: the namespaced cluster within 15% of local
DASK_HOSTS = ("sched", "w1", "w2")
CLUSTERS = ("local", "namespaced")
BASE = Path("/var/tmp") / f"wbclusterbench-{os.getpid()}"  # all the hosts keep, removed after
WORKER_KEY = Fernet.generate_key().decode()  # the driver's and both clusters' workers'


# --- data --------------------------------------------------------------------------------------


def tpch_files(scale: float) -> Path:
    """TPC-H at ``scale`` in CACHE, generated once (into a folder renamed when complete)."""
    folder = CACHE / f"sf{scale:g}"
    if not (folder / "lineitem.tbl").exists():
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        tpch.generate(scale, partial)
        shutil.rmtree(folder, ignore_errors=True)
        partial.rename(folder)
    return folder


def build_hosts(stack: contextlib.ExitStack, scale: float) -> Any:
    """The namespaced cluster's hosts, as tests/cluster builds them, with TPC-H at ``scale``."""
    from tests.cluster import namespaced

    files = tpch_files(scale)
    started = time.monotonic()
    cluster = namespaced.build_hosts(stack, BASE, files, (ENV_KEY, WORKER_KEY), [CACHE])
    say(f"hosts built, TPC-H SF{scale:g} loaded in {time.monotonic() - started:.0f} s")
    return cluster


# --- the two clusters ---------------------------------------------------------------------------


@contextlib.contextmanager
def local_dask(cluster: Any) -> Iterator[Any]:
    """A LocalCluster as workbench.engine.cluster.dask_client starts one, its workers holding
    the worker key (the driver seals the source's password with it, as for the other)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address="127.0.0.1:0", env={ENV_KEY: WORKER_KEY},
            silence_logs=logging.CRITICAL,
        ) as local,
        Client(local) as client,
    ):  # fmt: skip
        yield client


@contextlib.contextmanager
def namespaced_dask(cluster: Any) -> Iterator[Any]:
    """The TLS scheduler on sched and a worker on each of w1 and w2, as the tests start them;
    killed (every process of those hosts) on the way out."""
    from distributed import Client
    from distributed.security import Security

    from workbench.engine.cluster import worker_problems

    certs = cluster.certs
    try:
        cluster.start_scheduler()
        for name in DASK_HOSTS[1:]:
            cluster.start_worker(name)
        security = Security(
            tls_ca_file=str(certs / "ca.pem"),
            tls_client_cert=str(certs / "driver.pem"),
            tls_client_key=str(certs / "driver.key"),
            require_encryption=True,
        )
        with Client(cluster.scheduler_address, security=security, timeout=30) as client:
            cluster.client = client
            cluster.wait_for_workers(set(DASK_HOSTS[1:]))
            workers, problems = worker_problems(client)
            if workers != WORKERS or problems:
                raise RuntimeError(f"the namespaced workers: {workers}, {problems}")
            yield client
    finally:
        cluster.client = None
        for name in DASK_HOSTS:
            cluster.host(name).kill_all()
        from tests.cluster.namespaced import stop_processes

        stop_processes(cluster)
        cluster.processes.clear()


# --- CPU accounting -----------------------------------------------------------------------------


def _cpu_seconds(pids: set[int]) -> float:
    """CPU the processes used, and their children that they reaped."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
    return total


def _machine_busy() -> float:
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + t.irq + t.softirq + t.steal


class CpuMeter:
    """CPU seconds spent during a run: by the Dask side (this driver with its children, and
    the processes of ``dask_hosts``), by the db host's servers, and by the rest of the machine
    (whatever else runs beside the benchmark, and the kernel's work outside process time)."""

    def __init__(self, cluster: Any, dask_hosts: tuple[str, ...]) -> None:
        self.cluster, self.dask_hosts = cluster, dask_hosts
        self.start = self._sample()

    def _sample(self) -> tuple[float, float, float]:
        db = set(self.cluster.host("db").pids())
        me = psutil.Process()
        dask = {me.pid, *(p.pid for p in me.children(recursive=True))}
        for name in self.dask_hosts:
            dask.update(self.cluster.host(name).pids())
        return _cpu_seconds(dask - db), _cpu_seconds(db), _machine_busy()

    def stop(self) -> dict[str, float]:
        end = self._sample()
        dask, db, busy = (b - a for a, b in zip(self.start, end, strict=True))
        return {"dask": dask, "db": db, "other": max(0.0, busy - dask - db)}


# --- a run --------------------------------------------------------------------------------------


@dataclass
class Run:
    cluster: str
    round: int
    rows: int
    seconds: float  # wall, around copy_database (the cluster already up)
    engine_seconds: float
    phases: dict[str, float]
    cpu: dict[str, float]
    tasks: list[int] = field(default_factory=list)  # copy tasks per worker

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def copy_once(name: str, round_: int, cluster: Any, client: Any, store: Any, options: Any) -> Run:
    """One validated copy on ``client`` into a fresh target database, checked, then dropped."""
    from distributed import get_task_stream

    from tests.cluster.namespaced import SOURCE_DB
    from workbench.engine.run import copy_database

    admin = cluster.postgres.url("postgres")
    target = fresh_pg(admin, f"wb_{name}_{round_}")
    with psycopg.connect(admin, autocommit=True) as conn:  # the last run's writes on disk
        conn.execute("CHECKPOINT")
    dask_hosts = DASK_HOSTS if name == "namespaced" else ()
    meter = CpuMeter(cluster, dask_hosts)
    # collected after a success only: after a Ctrl-C, whose SIGINT ends the namespaced Dask
    # processes too, asking their scheduler would wait for it (30 s)
    stream = get_task_stream(client=client).__enter__()
    started = time.monotonic()
    result = copy_database(cluster.source_url, target, options, store=store, client=client)
    seconds = time.monotonic() - started
    stream.__exit__(None, None, None)
    cpu = meter.stop()
    expected = sum(cluster.rows.values())
    if result.status != "succeeded" or not result.validated or result.rows_copied != expected:
        raise RuntimeError(f"{name}: {result.summary()}")
    with psycopg.connect(target) as conn:
        keys = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'p'"
            " AND connamespace = %s::regnamespace",
            (SOURCE_DB,),
        ).fetchone()[0]
    if keys != len(tpch.TABLES) or pg_rows(target, SOURCE_DB) != expected:
        raise RuntimeError(f"{name}: the target has {keys} primary keys or the wrong rows")
    by_worker: dict[str, int] = {}
    for task in stream.data:
        if str(task["key"]).startswith("copy-"):
            by_worker[task["worker"]] = by_worker.get(task["worker"], 0) + 1
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "wb_{name}_{round_}" WITH (FORCE)')
    return Run(
        name, round_, result.rows_copied, seconds, result.seconds, dict(result.phases), cpu,
        sorted(by_worker.values(), reverse=True),
    )  # fmt: skip


# --- output -------------------------------------------------------------------------------------


def table(runs: list[Run], local_rate: float) -> str:
    lines = [
        f"{'cluster':<12} {'round':>5} {'seconds':>8} {'rows/s':>10} {'vs local':>8}  "
        f"{'engine s':>8}  {'plan/copy/finish s':<18}  {'CPU s dask/db/other':<20}  copy tasks"
    ]
    for r in runs:
        phases = "/".join(f"{r.phases.get(p, 0):.1f}" for p in ("plan", "copy", "finish"))
        cpu = "/".join(f"{r.cpu[k]:.0f}" for k in ("dask", "db", "other"))
        lines.append(
            f"{r.cluster:<12} {r.round:>5} {r.seconds:>8.1f} {r.rows_per_second:>10,.0f} "
            f"{r.rows_per_second / local_rate:>7.2f}x  {r.engine_seconds:>8.1f}  {phases:<18}  "
            f"{cpu:<20}  {'+'.join(map(str, r.tasks))}"
        )
    return "\n".join(lines)


def verdict(runs: list[Run]) -> str:
    """namespaced/local, of the whole job's rows/s and of its copy phase alone (the part that
    runs on the workers: validation and keys run from the driver, alike on both), for the
    median runs and, over several rounds, the best ones (other work only slows a run down)."""
    kinds = [("median", statistics.median)] + ([("best", max)] if len(runs) > 2 else [])
    target = f">= {TARGET_RATIO:.2f}x rows/s: the namespaced cluster within 15% of local"
    lines = [f"{'namespaced/local':<17} {'rows/s':>7} {'copy phase':>10}  target ({target})"]
    mine = {c: [r for r in runs if r.cluster == c] for c in CLUSTERS}
    for label, pick in kinds:
        whole = {c: pick(r.rows_per_second for r in mine[c]) for c in CLUSTERS}
        copy = {c: pick(r.rows / r.phases["copy"] for r in mine[c]) for c in CLUSTERS}
        ratio = whole["namespaced"] / whole["local"]
        lines.append(
            f"{label:<17} {ratio:>6.2f}x {copy['namespaced'] / copy['local']:>9.2f}x  "
            f"{'met' if ratio >= TARGET_RATIO else 'NOT met'} (local {whole['local']:,.0f}, "
            f"namespaced {whole['namespaced']:,.0f} rows/s)"
        )
    return "\n".join(lines)


def dask_log_problems(cluster: Any, most: int = 12) -> list[str]:
    """The warnings and errors of the namespaced scheduler's and workers' logs, each once."""
    seen: dict[str, int] = {}
    # the scheduler's start is checked with a plain TCP connect from the driver (port_open)
    probe = f"TLS handshake failed with remote 'tls://{cluster.network.driver_address}:"
    for path in sorted(cluster.logs.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if probe in line:
                continue
            if any(word in line for word in (" WARNING ", " ERROR ", "Traceback")):
                text = f"{path.stem}: {line.split(' - ', 1)[-1].strip()[:160]}"
                seen[text] = seen.get(text, 0) + 1
    return [f"{text} (x{n})" if n > 1 else text for text, n in list(seen.items())[:most]]


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# --- main ---------------------------------------------------------------------------------------


def bench(args: argparse.Namespace, stack: contextlib.ExitStack) -> None:
    from workbench.config import load_settings
    from workbench.engine.run import CopyOptions
    from workbench.store import open_store

    began = time.monotonic()
    missing = missing_capability()
    if missing:
        raise SystemExit(f"the namespaced cluster {missing}")
    # the driver's own settings only: no config file, no Dask address of the environment
    os.environ["WORKBENCH_CONFIG"] = str(BASE / "driver" / "config.toml")  # none there
    os.environ.pop("WORKBENCH_DASK_ADDRESS", None)
    os.environ[ENV_KEY] = WORKER_KEY  # both clusters' workers hold it

    say(f"building the hosts, loading TPC-H SF{args.scale:g}, installing the worker venv")
    cluster = build_hosts(stack, args.scale)
    store_server = PostgresServer(base_url=args.store)
    store_db = store_server.create_database("wbbench_store")
    stack.callback(store_server.drop_database, store_db)
    settings = load_settings(
        database_url=store_server.url(store_db), data_dir=cluster.base / "driver" / "data",
        user="bench",
    )  # fmt: skip
    store = open_store(settings)
    stack.callback(store.close)
    setup = time.monotonic() - began
    say(f"set up in {setup:.0f} s")

    options = CopyOptions(partition_rows=args.partition_rows, batch_rows=args.batch_rows)
    clusters: dict[str, Callable[[Any], contextlib.AbstractContextManager]] = {
        "local": local_dask,
        "namespaced": namespaced_dask,
    }
    order = list(CLUSTERS)
    runs: list[Run] = []
    for round_ in range(1, args.repeat + 1):
        for name in order if round_ % 2 else order[::-1]:  # ABBA: drift hits both alike
            with clusters[name](cluster) as client:
                run = copy_once(name, round_, cluster, client, store, options)
            runs.append(run)
            say(
                f"{name} round {round_}: {run.seconds:.1f} s, {run.rows_per_second:,.0f} rows/s"
                f", CPU s dask {run.cpu['dask']:.0f} db {run.cpu['db']:.0f}"
                f" other {run.cpu['other']:.0f}"
            )

    rows = sum(cluster.rows.values())
    print()
    print(
        f"TPC-H SF{args.scale:g}: {rows:,} rows in {len(cluster.rows)} tables, MariaDB -> "
        f"PostgreSQL both on host db, validated, keys built; partition_rows "
        f"{options.partition_rows:,}, batch_rows {options.batch_rows:,}; {WORKERS} workers x 1 "
        f"thread on {os.cpu_count()} cores"
    )
    print(table(runs, statistics.median(r.rows_per_second for r in runs if r.cluster == "local")))
    print(verdict(runs))
    busy = sum(r.cpu["other"] for r in runs) / sum(r.seconds for r in runs) / (os.cpu_count() or 1)
    if busy > 0.05:
        print(f"note: other work used {busy:.0%} of the machine's CPU during the runs")
    for line in dask_log_problems(cluster):
        print(f"namespaced Dask log: {line}")
    print(f"wall: setup {setup:.0f} s, in all {time.monotonic() - began:.0f} s (cleanup after)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1, help="TPC-H scale factor (1: 8.66M)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds (ABBA): medians and best")
    parser.add_argument("--partition-rows", type=int, default=250_000)
    parser.add_argument("--batch-rows", type=int, default=50_000)
    parser.add_argument(
        "--store",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server for the jobs' store (a fresh database on it, dropped after)",
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    stack = contextlib.ExitStack()
    try:
        bench(args, stack)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):  # the cleanup is not interrupted
            signal.signal(sig, signal.SIG_IGN)
        say("cleaning up")
        stack.close()
        say("cleaned up")


if __name__ == "__main__":
    main()
