"""Requests/s and latency of the HTTP API's job status reads under concurrent clients.

    python benchmarks/api_bench.py [--clients 20] [--seconds 15] [--postgres URL]

Makes a store in a fresh database of ``--postgres``, a real job (a small Chinook copy, so
the status carries real statistics), starts ``workbench serve`` as its own process and has
``--clients`` concurrent clients (threads, one keep-alive connection each) read
``GET /api/v1/jobs/{id}`` for ``--seconds``. Prints requests/s and p50/p95/p99 latency, next
to ``/health/live`` (the same server with no store work: the framework's own floor)
measured the same way in the same run. Target (issue 18): p95 under 50 ms with 20 clients.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from workbench.store.tenancy import drop_store_roles

REPO = Path(__file__).resolve().parents[1]
WORKBENCH = Path(sys.executable).parent / "workbench"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load(base: str, path: str, token: str, clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        mine: list[float] = []
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            while time.monotonic() < stop:
                began = time.perf_counter()
                status = http.get(path).status_code
                mine.append(time.perf_counter() - began)
                if status != 200:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "rps": len(latencies) / elapsed,
        "p50_ms": cuts[49] * 1000,
        "p95_ms": cuts[94] * 1000,
        "p99_ms": cuts[98] * 1000,
    }


WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %f %f %f %f\\n", summary.requests,
    e.status + e.connect + e.read + e.write + e.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def _wrk(base: str, path: str, token: str, clients: int, seconds: float) -> dict[str, float]:
    """The same load from ``wrk`` (2 threads, ``clients`` connections)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_REPORT)
        script.flush()
        out = subprocess.run(
            ["wrk", "-t2", "-c", str(clients), "-d", f"{seconds:g}s", "-s", script.name,
             "-H", f"Authorization: Bearer {token}", base + path],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    requests, errors, elapsed, p50, p95, p99 = (float(v) for v in line.split()[1:])
    return {"requests": int(requests), "errors": int(errors), "rps": requests / elapsed,
            "p50_ms": p50, "p95_ms": p95, "p99_ms": p99}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=1, help="workbench serve --workers")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    database = f"wb_api_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
        conn.execute(f'CREATE DATABASE "{database}_t"')
    work = Path(tempfile.mkdtemp(prefix="wb-api-bench-"))
    url = make_url(args.postgres)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update(
        WORKBENCH_DATABASE_URL=url.set(database=database).render_as_string(False),
        WORKBENCH_DATA_DIR=str(work / "data"),
        WORKBENCH_USER="bench",
    )
    target = url.set(database=f"{database}_t").render_as_string(False)
    chinook = work / "chinook.sqlite"
    shutil.copy(REPO / "tests" / "data" / "chinook.sqlite", chinook)
    server = None
    try:

        def wb(*argv: str) -> str:
            done = subprocess.run([str(WORKBENCH), *argv, "--json"], env=env, text=True,
                                  capture_output=True, check=True)  # fmt: skip
            return done.stdout

        wb("init")
        copied = json.loads(wb("copy", f"sqlite:///{chinook}", target, "--tables", "Track"))
        job_id = copied["job_id"]
        token = json.loads(wb("token", "create", "bench"))["token"]
        port = _free_port()
        server = subprocess.Popen(
            [str(WORKBENCH), "serve", "--port", str(port), "--rate-limit", "100000000/minute",
             "--workers", str(args.workers)],
            env=env, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(f"{base}/health/live")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        auth = {"Authorization": f"Bearer {token}"}
        _load(base, f"/api/v1/jobs/{job_id}", token, args.clients, 2)  # warm the pools
        status = f"/api/v1/jobs/{job_id}"
        rows = [
            ("GET /health/live (no store work)", "httpx",
             _load(base, "/health/live", token, args.clients, args.seconds)),
            ("GET /api/v1/jobs/{id} (job status)", "httpx",
             _load(base, status, token, args.clients, args.seconds)),
        ]  # fmt: skip
        if shutil.which("wrk"):  # a load generator in C: the clients take less of the 2 cores
            rows += [
                ("GET /health/live (no store work)", "wrk",
                 _wrk(base, "/health/live", token, args.clients, args.seconds)),
                ("GET /api/v1/jobs/{id} (job status)", "wrk",
                 _wrk(base, status, token, args.clients, args.seconds)),
            ]  # fmt: skip
        else:
            print("(wrk not found: `apt-get install wrk` adds its figures)")
        print(f"\n`workbench serve --workers {args.workers}`; {args.clients} concurrent clients "
              f"(keep-alive), {args.seconds:g} s each; {os.cpu_count()} cores shared by server, "
              f"store and clients; a {copied['rows_copied']:,}-row job's status "
              f"({len(httpx.get(base + status, headers=auth).content):,} bytes)\n")  # fmt: skip
        print("| request | clients | requests | errors | req/s | p50 ms | p95 ms | p99 ms |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, clients, r in rows:
            print(f"| {name} | {clients} | {r['requests']:,} | {r['errors']} | {r['rps']:,.0f} | "
                  f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} |")  # fmt: skip
        for name, clients, r in rows:
            if "status" in name:
                print(f"job status p95 with {clients} clients: {r['p95_ms']:.1f} ms (target "
                      f"under 50 ms: {'met' if r['p95_ms'] < 50 else 'NOT met'})")  # fmt: skip
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            for name in (database, f"{database}_t"):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            drop_store_roles(conn, database)  # roles are the server's, not the database's
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
