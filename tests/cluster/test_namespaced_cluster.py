"""A cluster of separate hosts on this one machine, and a migration run on it.

The hosts are network namespaces on a bridge the test creates (tests/cluster/hosts.py):
``db`` runs a private MariaDB and a private PostgreSQL on its link address, ``sched`` runs
``dask scheduler`` over TLS (certificates made here), ``w1`` and ``w2`` run ``dask worker``,
each in a mount namespace of its own too (its own HOME and /tmp, no view of the checkout or
of the driver's data, store socket and files), from a virtualenv that scripts/install-worker
made from the built wheel. The driver (this process) stays outside them and reaches the hosts
through the bridge.

One cluster serves the whole module; the tests that break a host come last: every process
of ``w1`` killed mid-copy (then ``w1`` is started again), ``w2``'s link taken down mid-COPY.
Wherever data moves, the target is compared with the source cell by cell.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.cluster.hosts import missing_capability
from tests.cluster.namespaced import (
    PASSWORD,
    REPO,
    RERUN_WITHIN,
    SOURCE_DB,
    SOURCE_USER,
    TPCH,
    Cluster,
    build_hosts,
)
from tests.conftest import WORKER_KEY, WORKER_KEY_ENV
from workbench.engine.cluster import worker_problems
from workbench.engine.run import CopyOptions, JobResult, copy_database

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.local_cluster]

# --- the cluster ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    missing = missing_capability()
    if missing:
        pytest.skip(f"the namespaced cluster {missing}")
    base = Path("/var/tmp") / f"wbcluster-{os.getpid()}"  # outside /tmp: workers cover /tmp
    tpch_files = tmp_path_factory.mktemp("tpch")
    TPCH.generate(0.01, tpch_files)
    with contextlib.ExitStack() as stack:
        cluster = build_hosts(stack, base, tpch_files, (WORKER_KEY_ENV, WORKER_KEY),
                              [tmp_path_factory.getbasetemp()])  # fmt: skip
        cluster.start_scheduler()
        cluster.start_worker("w1")
        cluster.start_worker("w2")
        cluster.client = stack.enter_context(cluster.connect())
        cluster.wait_for_workers({"w1", "w2"})
        yield cluster


# --- what the tests compare -----------------------------------------------------------------


def assert_same_cells(cluster: Cluster, target_url: str, tables: tuple[str, ...]) -> None:
    """Every row of each table, cell by cell, alike in the source and the target (ordered by
    the key; CHAR(n) compared without its padding, as both servers define CHAR)."""
    for name in tables:
        columns = TPCH.TABLES[name]
        key = re.search(r"PRIMARY KEY \(([^)]*)\)", columns)[1]
        chars = {c for c, kind in re.findall(r"(\w+) (VARCHAR|CHAR)\(", columns) if kind == "CHAR"}
        with cluster.mysql.connect(SOURCE_DB) as conn, conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {name} ORDER BY {key}")
            names = [d[0] for d in cur.description]
            source = list(cur.fetchall())
        with psycopg.connect(target_url) as conn:
            cur = conn.execute(f'SELECT * FROM "{SOURCE_DB}"."{name}" ORDER BY {key}')
            assert [d.name for d in cur.description] == names, name
            target = cur.fetchall()
        assert len(source) == cluster.rows[name], name
        assert len(target) == len(source), f"{name}: {len(target)} rows, source {len(source)}"
        padded = [i for i, n in enumerate(names) if n in chars]
        for at, rows in enumerate(zip(source, target, strict=True)):
            mine, theirs = (list(row) for row in rows)
            for row in (mine, theirs):
                for i in padded:
                    row[i] = row[i].rstrip(" ") if row[i] is not None else None
            if mine != theirs or [type(v) for v in mine] != [type(v) for v in theirs]:
                pytest.fail(f"{name} row {at} differs:\n  source {mine!r}\n  target {theirs!r}")


def assert_exactly_once(cluster: Cluster, target_url: str, result: JobResult, tables) -> None:
    """Each partition committed once (one checkpoint, counted once by the driver), and the
    rows written add up to the source's."""
    with psycopg.connect(target_url) as conn:
        done = conn.execute(
            "SELECT table_name, count(*), count(DISTINCT partition_index), sum(rows_written)"
            " FROM _workbench.checkpoints GROUP BY table_name"
        ).fetchall()
    by_table = {t.split(".")[-1]: (n, distinct, int(written)) for t, n, distinct, written in done}
    assert set(by_table) == set(tables)
    for name in tables:
        n, distinct, written = by_table[name]
        stats = result.tables[f"{SOURCE_DB}.{name}"]
        assert n == distinct == stats["partitions_done"], (name, by_table[name], stats)
        assert written == stats["rows_written"] == cluster.rows[name], (name, written, stats)
    assert result.rows_copied == sum(cluster.rows[t] for t in tables)


def copy_in_background(
    cluster: Cluster, target_url: str, options: CopyOptions, store
) -> concurrent.futures.Future[JobResult]:
    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="wb-test-job")
    future = pool.submit(
        copy_database, cluster.source_url, target_url, options, store=store,
        client=cluster.client,
    )  # fmt: skip
    pool.shutdown(wait=False)
    return future


def wait_for(what: str, check: Callable[[], Any], job, timeout: float = 60) -> Any:
    """Poll ``check`` until it returns something true (the job must still be running)."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert not job.done(), f"the job ended before {what}: {job.result()}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.1)


def copies_in_flight(cluster: Cluster, target_url: str, host: str) -> list[tuple]:
    """The host's target sessions in the middle of a partition: their open transaction has
    COPYed rows into a table of the target's schema (it holds the table's RowExclusiveLock)."""
    with psycopg.connect(target_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT DISTINCT a.pid, a.state, a.xact_start, left(a.query, 60)"
            " FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid"
            " JOIN pg_class c ON c.oid = l.relation"
            " WHERE a.client_addr = %s AND a.xact_start IS NOT NULL AND l.granted"
            " AND l.mode = 'RowExclusiveLock' AND c.relnamespace = %s::regnamespace",
            (cluster.host(host).address, SOURCE_DB),
        ).fetchall()


def committed(target_url: str) -> set[tuple[str, int]]:
    with psycopg.connect(target_url, autocommit=True) as conn:
        if not conn.execute("SELECT to_regclass('_workbench.checkpoints')").fetchone()[0]:
            return set()
        rows = conn.execute("SELECT table_name, partition_index FROM _workbench.checkpoints")
        return {(t, i) for t, i in rows.fetchall()}


KEY = re.compile(r"^copy-job-[0-9a-f]+-(?P<table>.+)-(?P<index>\d+)$")


def partition_of(key: str) -> tuple[str, int]:
    m = KEY.match(key)
    assert m, key
    return m["table"], int(m["index"])


def copy_keys_on(cluster: Cluster, worker: str) -> set[str]:
    processing = cluster.client.processing()
    return {k for k in processing.get(worker, ()) if str(k).startswith("copy-")}


# --- the tests -------------------------------------------------------------------------------


def _worker_probe(hidden: list[str], venvs: list[str]) -> Callable[[], dict[str, Any]]:
    """What a worker sees (nested: Dask sends it by value, the workers have no tests/)."""

    def probe() -> dict[str, Any]:
        import os

        import workbench

        with open("/proc/net/route") as routes:
            table = [line.split() for line in routes.read().splitlines()[1:]]
        return {
            "seen": [p for p in hidden if os.path.exists(p)],
            "home": os.environ.get("HOME"),
            "workbench": workbench.__file__,
            "venvs": [v for v in venvs if os.path.exists(v)],  # the hosts' environments seen
            "environment": sorted(os.environ),
            "routes": [(r[0], r[1], r[2]) for r in table],  # device, destination, gateway
        }

    return probe


def test_the_hosts_are_apart(cluster, pg_server, tmp_path):
    """Addresses only on the links, nothing routed elsewhere; TLS everywhere; each worker
    runs the wheel's install in a mount namespace of its own, seeing none of the driver."""
    net = cluster.network
    for host in net.hosts.values():
        routes = subprocess.run(
            ["ip", "-n", host.netns, "-4", "route", "show"], capture_output=True, text=True
        ).stdout.split("\n")
        routes = [line.split() for line in routes if line.strip()]
        assert len(routes) == 1, routes  # the link's own network, no default route
        assert routes[0][:2] == [net.cidr, "dev"] and routes[0][-2:] == ["src", host.address]
        addresses = subprocess.run(
            ["ip", "-n", host.netns, "-4", "-o", "addr", "show"], capture_output=True, text=True
        ).stdout
        assert sorted(re.findall(r"inet (\S+)", addresses)) == sorted(
            ["127.0.0.1/8", f"{host.address}/24"]
        )
    info = cluster.client.scheduler_info(n_workers=-1)
    assert info["address"] == cluster.scheduler_address
    workers = {w["name"]: address for address, w in info["workers"].items()}
    assert set(workers) == {"w1", "w2"}
    for name, address in workers.items():  # each on its own host, over TLS
        assert address.startswith(f"tls://{cluster.host(name).address}:"), address
    assert worker_problems(cluster.client) == (2, [])  # the driver's versions, from the wheel

    marker = tmp_path / "driver-only"
    marker.write_text("the driver's file")
    socket_dir = re.search(r"host=([^&]+)", pg_server.base_url)
    hidden = [str(REPO / "pyproject.toml"), str(marker), os.environ["WORKBENCH_DATA_DIR"],
              str(cluster.logs), str(cluster.base / "db" / "pg")]  # fmt: skip
    if socket_dir:  # the store's server: its Unix socket
        hidden.append(socket_dir[1])
    for path in hidden:
        assert Path(path).exists() or path == os.environ["WORKBENCH_DATA_DIR"], path
    venvs = {name: str(cluster.venvs[name]) for name in ("w1", "w2", "w3")}
    seen = cluster.client.run(_worker_probe(hidden, list(venvs.values())))
    assert len(seen) == 2
    for worker, what in seen.items():
        assert what["seen"] == [], (worker, what)
        assert what["home"] == "/tmp/home", (worker, what)
        name = next(n for n, address in workers.items() if address == worker)
        # its own install of the wheel, and no other host's
        assert what["workbench"].startswith(venvs[name] + os.sep), (worker, what)
        assert what["venvs"] == [venvs[name]], (worker, what)
        assert "WORKBENCH_DATA_DIR" not in what["environment"], what["environment"]
        assert WORKER_KEY_ENV in what["environment"]
        # one route, to the cluster's network, through the host's own link: no gateway
        assert [(dest, gateway) for _dev, dest, gateway in what["routes"]] == [
            (_route_hex(net.subnet + ".0"), "00000000")
        ], what["routes"]


def _route_hex(address: str) -> str:
    """An IPv4 address as /proc/net/route writes it (little-endian hex)."""
    return "".join(f"{int(part):02X}" for part in reversed(address.split(".")))


def test_tpch_copies_through_the_cluster(cluster, store):
    """TPC-H SF 0.01, MariaDB -> PostgreSQL, every partition on a worker host: validated,
    and every cell as in the source."""
    from distributed import get_task_stream

    target = cluster.new_target()
    options = CopyOptions(partition_rows=5_000, batch_rows=2_500)
    with get_task_stream(client=cluster.client) as stream:
        result = copy_database(
            cluster.source_url, target, options, store=store, client=cluster.client
        )
    assert result.status == "succeeded" and result.validated, result.summary()
    tables = tuple(TPCH.TABLES)
    assert_exactly_once(cluster, target, result, tables)
    assert_same_cells(cluster, target, tables)
    ran_on = {t["worker"] for t in stream.data if str(t["key"]).startswith("copy-")}
    assert ran_on == {cluster.worker_of("w1"), cluster.worker_of("w2")}


def _scheduler_snapshot() -> Callable[..., dict[str, Any]]:
    """Everything the scheduler holds of the job's tasks, as bytes (nested: sent by value)."""

    def snapshot(dask_scheduler) -> dict[str, Any]:
        from distributed.protocol.pickle import dumps

        tasks = {}
        for key, ts in dask_scheduler.tasks.items():
            held = [repr(ts).encode(), dumps(ts.run_spec)]
            for name in ("exception", "traceback", "exception_text", "traceback_text",
                         "annotations", "who_wants", "waiting_on"):  # fmt: skip
                held.append(repr(getattr(ts, name, None)).encode())
            tasks[str(key)] = b"\n".join(held)
        try:
            state = repr(dask_scheduler._to_dict()).encode()
        except Exception as exc:  # the dump itself is a debugging aid: say why it failed
            state = f"_to_dict failed: {exc!r}".encode()
        logs = repr(list(dask_scheduler.get_logs())).encode()
        events = repr(dask_scheduler.get_events()).encode()
        return {"tasks": tasks, "state": state, "logs": logs, "events": events}

    return snapshot


def test_the_scheduler_holds_no_password(cluster, store):
    """The source login has a password; the tasks the scheduler holds while the job runs (their
    specs, its whole state dump, its logs and events) carry the URL sealed, never in clear."""
    assert PASSWORD in cluster.source_url
    target = cluster.new_target()
    tables = ("supplier", "part", "partsupp")
    options = CopyOptions(
        tables=tables, partition_rows=1_000, batch_rows=500, max_rows_per_second=5_000
    )
    job = copy_in_background(cluster, target, options, store)
    snapshots = []
    while not job.done():
        snapshots.append(cluster.client.run_on_scheduler(_scheduler_snapshot()))
        time.sleep(0.3)
    result = job.result()
    assert result.status == "succeeded" and result.validated, result.summary()
    held = [s for s in snapshots if any(k.startswith("copy-") for k in s["tasks"])]
    assert held, f"none of {len(snapshots)} snapshots caught the job's tasks on the scheduler"
    secret = PASSWORD.encode()
    for snap in snapshots:
        for key, blob in snap["tasks"].items():
            assert secret not in blob, f"the password is in the scheduler's task {key}"
        for part in ("state", "logs", "events"):
            assert secret not in snap[part], f"the password is in the scheduler's {part}"
    specs = [b for s in held for k, b in s["tasks"].items() if k.startswith("copy-")]
    assert all(b"SealedUrl" in b and SOURCE_USER.encode() in b for b in specs)
    assert secret not in (cluster.logs / "sched.log").read_bytes()
    assert_exactly_once(cluster, target, result, tables)
    assert_same_cells(cluster, target, tables)


def _doctor(cluster: Cluster, *args: str) -> tuple[int, dict[str, dict[str, Any]], str]:
    """``workbench doctor ARGS --json`` in-process, reaching the TLS scheduler with the driver's
    certificate through Dask's own settings; (exit code, checks by name, output)."""
    import dask
    from click.testing import CliRunner

    from workbench.cli import main

    tls = {
        "distributed.comm.tls.ca-file": str(cluster.certs / "ca.pem"),
        "distributed.comm.tls.client.cert": str(cluster.certs / "driver.pem"),
        "distributed.comm.tls.client.key": str(cluster.certs / "driver.key"),
        "distributed.comm.require-encryption": True,
    }
    with dask.config.set(tls):
        done = CliRunner().invoke(main, ["doctor", *args, "--json"], catch_exceptions=False)
    checks = {c["check"]: c for c in json.loads(done.stdout)["checks"]}
    return done.exit_code, checks, done.stdout + (done.stderr or "")


def test_doctor_names_the_worker_without_the_workbench_and_the_one_cut_off(
    cluster, store_url, monkeypatch, tmp_path
):
    """`workbench doctor --dask ADDR --project P` against the hosts: all well first; then w2
    with no route to the database host is named, with what it saw and the fix; then a worker
    w3 started from a Dask environment without the workbench is named, with the install
    script. The source's password appears in no answer."""
    for key, value in {"WORKBENCH_DATABASE_URL": store_url, "WORKBENCH_USER": "tester",
                       "WORKBENCH_DATA_DIR": str(tmp_path / "data")}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    from click.testing import CliRunner

    from workbench.cli import main

    for args in (["project", "create", "far"], ["connection", "add", "far", "src",
                                                 cluster.source_url]):  # fmt: skip
        assert CliRunner().invoke(main, args).exit_code == 0
    doctor = ("--project", "far", "--dask", cluster.scheduler_address)
    w1, w2 = cluster.worker_of("w1"), cluster.worker_of("w2")

    code, checks, said = _doctor(cluster, *doctor)
    assert code == 0, said
    assert checks["workers reach src"]["detail"] == "each of 2 workers opened it"

    w2_ns, db = cluster.host("w2").netns, cluster.host("db").address
    subprocess.run(["ip", "-n", w2_ns, "route", "add", "unreachable", f"{db}/32"], check=True)
    try:
        code, checks, cut_off = _doctor(cluster, *doctor)
    finally:
        subprocess.run(["ip", "-n", w2_ns, "route", "del", "unreachable", f"{db}/32"], check=True)
    reach = checks["workers reach src"]
    assert code == 1 and not reach["ok"] and checks["dask"]["ok"], cut_off
    assert f"worker {w2} cannot open Connection 'src'" in reach["detail"], reach
    assert w1 not in reach["detail"]
    assert "Open a network path from that host" in reach["detail"]

    cluster.start_worker("w3")
    try:
        w3 = cluster.wait_for_workers({"w1", "w2", "w3"})["w3"]
        code, checks, bare = _doctor(cluster, *doctor)
    finally:
        cluster.host("w3").kill_all()
        cluster.processes.pop("w3").wait(10)
        cluster.wait_for_workers({"w1", "w2"})
    dask_check = checks["dask"]
    assert code == 1 and not dask_check["ok"], bare
    assert f"worker {w3} has no workbench" in dask_check["detail"], dask_check
    assert "scripts/install-worker" in dask_check["detail"]
    assert w1 not in dask_check["detail"] and w2 not in dask_check["detail"]
    for answer in (said, cut_off, bare):
        assert PASSWORD not in answer


# the destructive tests: lineitem in small throttled partitions, so a partition is in flight
# long enough to break its host under it
LOSS_OPTIONS = CopyOptions(
    tables=("lineitem",), partition_rows=4_000, batch_rows=500, max_rows_per_second=8_000
)


def test_every_process_of_w1_killed_mid_copy(cluster, store):
    """Killing every process of w1 while it copies a partition: the job completes, each
    partition exactly once, every cell as in the source."""
    from distributed import get_task_stream

    w1 = cluster.worker_of("w1")
    target = cluster.new_target()
    try:
        with get_task_stream(client=cluster.client) as stream:
            job = copy_in_background(cluster, target, LOSS_OPTIONS, store)
            wait_for("a committed partition", lambda: committed(target), job)
            wait_for("a COPY of w1", lambda: copies_in_flight(cluster, target, "w1"), job)
            in_flight = copy_keys_on(cluster, w1)
            killed = cluster.host("w1").kill_all()
            at = time.monotonic()
            assert len(killed) >= 2, killed  # the nanny and its worker at least
            cluster.processes["w1"].wait(10)
            result = job.result(timeout=300)
        print(
            f"\nw1 killed ({len(killed)} processes) while copying {sorted(map(str, in_flight))}"
            f"; the job ended {time.monotonic() - at:.1f} s later, {result.seconds:.1f} s in all"
        )
        assert in_flight, "w1 had no copy task when it was killed"
        assert result.status == "succeeded" and result.validated, result.summary()
        assert_exactly_once(cluster, target, result, ("lineitem",))
        assert_same_cells(cluster, target, ("lineitem",))
        # what w1 was copying was copied again, elsewhere
        finished = {str(t["key"]): t["worker"] for t in stream.data if t["status"] == "OK"}
        for key in in_flight:
            assert finished.get(str(key)) not in (None, w1), (key, finished.get(str(key)))
    finally:  # the hosts stay whole for the tests after this one
        if cluster.processes["w1"].poll() is not None:
            cluster.start_worker("w1")
        cluster.wait_for_workers({"w1", "w2"})


def test_w2_link_down_mid_copy(cluster, store):
    """w2's link taken down in the middle of a COPY: the scheduler drops w2 once its
    heartbeats stop, the target ends w2's stale session (keepalives) and with it the
    partition's lock, and w2's partitions are re-run on w1 and committed within RERUN_WITHIN
    seconds, once."""
    from distributed import get_task_stream

    w1, w2 = cluster.worker_of("w1"), cluster.worker_of("w2")
    target = cluster.new_target()
    with get_task_stream(client=cluster.client) as stream:
        job = copy_in_background(cluster, target, LOSS_OPTIONS, store)
        wait_for("a committed partition", lambda: committed(target), job)
        stale = wait_for("a COPY of w2", lambda: copies_in_flight(cluster, target, "w2"), job)
        lost = copy_keys_on(cluster, w2)
        cluster.host("w2").set_link(up=False)
        watch = LossWatch(cluster, target, w1, w2, lost, [row[0] for row in stale])
        result = job.result(timeout=RERUN_WITHIN + 120)
        watch.join()
    print(f"\nw2 lost {sorted(map(str, lost))} with its sessions {stale}; seconds after the "
          f"link went down: {watch.report()}; the stale session as last seen: {watch.last_seen};"
          f" the job took {result.seconds:.1f} s; the db host's TCP timers towards w2:"
          f" {watch.timers()}; the target's log of them: {watch.server_log()}")  # fmt: skip
    assert lost, "w2 had no copy task when its link went down"
    assert result.status == "succeeded" and result.validated, result.summary()
    assert watch.seen.get("committed again", 1e9) <= RERUN_WITHIN, watch.report()
    finished = {str(t["key"]): t["worker"] for t in stream.data if t["status"] == "OK"}
    for key in lost:  # re-run on w1, and only there
        assert finished.get(str(key)) == w1, (key, finished.get(str(key)))
    assert_exactly_once(cluster, target, result, ("lineitem",))
    assert_same_cells(cluster, target, ("lineitem",))


class LossWatch:
    """Notes, in a thread, when (seconds after the link went down) the scheduler dropped w2,
    the target ended w2's stale sessions, the re-run started on w1, it waited on the
    partition's lock, and w2's partitions were committed again."""

    def __init__(
        self, cluster: Cluster, target: str, w1: str, w2: str, keys: set[str], pids: list[int]
    ) -> None:
        self.cluster, self.target, self.w1, self.w2 = cluster, target, w1, w2
        self.keys = {str(k) for k in keys}
        self.partitions = {partition_of(k) for k in self.keys}
        self.pids = pids
        self.down = time.monotonic()
        self.seen: dict[str, float] = {}
        self.last_seen: list[tuple] = []  # the stale sessions in pg_stat_activity
        self.sockets: list[tuple[float, str]] = []  # the db host's sockets to w2 (ss)
        self.thread = threading.Thread(target=self._run, name="wb-test-watch", daemon=True)
        self.thread.start()

    def join(self) -> None:
        self.thread.join(RERUN_WITHIN + 60)

    def report(self) -> dict[str, float]:
        return {k: round(v, 1) for k, v in sorted(self.seen.items(), key=lambda kv: kv[1])}

    def server_log(self) -> list[str]:
        """What the target's log says of the stale sessions (how they ended)."""
        log = self.cluster.base / "db" / "pg" / "log"
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        return [line for line in lines if any(f"[{pid}]" in line for pid in self.pids)]

    def timers(self) -> list[tuple[float, list[str]]]:
        """(seconds, the kernel's timers on the db host's sockets to w2), as they changed."""
        shown: list[tuple[float, list[str]]] = []
        for at, text in self.sockets:
            timers = re.findall(r"timer:\((\w+),[^,]*,(\d+)\)", text)
            now = [f"{kind} probes={n}" for kind, n in timers]
            if not shown or shown[-1][1] != now:
                shown.append((at, now))
        return shown

    def _note(self, what: str, happened: bool) -> None:
        if happened and what not in self.seen:
            self.seen[what] = time.monotonic() - self.down

    def _run(self) -> None:
        deadline = self.down + RERUN_WITHIN + 60
        while time.monotonic() < deadline and "committed again" not in self.seen:
            with contextlib.suppress(Exception):  # a poll that fails is tried again
                client = self.cluster.client
                self._note("w2 dropped", self.w2 not in client.scheduler_info()["workers"])
                on_w1 = {str(k) for k in client.processing().get(self.w1, ())}
                self._note("re-run on w1", bool(self.keys & on_w1))
                with psycopg.connect(self.target, autocommit=True) as conn:
                    stale = conn.execute(
                        "SELECT pid, state, wait_event_type, wait_event, backend_start,"
                        " xact_start, state_change, left(query, 40) FROM pg_stat_activity"
                        " WHERE pid = ANY(%s)",
                        (self.pids,),
                    ).fetchall()
                    waiting = conn.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE client_addr = %s"
                        " AND wait_event_type = 'Lock'",
                        (self.cluster.host("w1").address,),
                    ).fetchone()[0]
                if stale:
                    self.last_seen = stale
                    sockets = subprocess.run(
                        [*self.cluster.host("db").prefix, "ss", "-tno", "dst",
                         self.cluster.host("w2").address],
                        capture_output=True, text=True,
                    ).stdout  # fmt: skip
                    self.sockets.append((round(time.monotonic() - self.down, 1), sockets))
                self._note("stale sessions ended", not stale)
                self._note("re-run waits on the lock", waiting > 0)
                self._note("committed again", self.partitions <= committed(self.target))
            time.sleep(0.25)
