"""The Dask cluster a job runs on: an existing scheduler by address, or a local one.

No home-made pool: a LocalCluster of worker processes (one thread each, since the work is
CPU-bound Arrow/CSV encoding plus database I/O) sized to the machine by default.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from workbench.errors import CannotConnectError

if TYPE_CHECKING:
    from distributed import Client

log = logging.getLogger(__name__)


def default_workers() -> int:
    """The CPUs this process may use: Dask's count honours the cgroup quota and the affinity
    mask (a 2-CPU pod on a 64-core node gets 2 workers, not 64)."""
    from dask.system import CPU_COUNT

    return max(1, int(CPU_COUNT or os.cpu_count() or 1))


@contextlib.contextmanager
def dask_client(address: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """A connected ``distributed.Client``; a local cluster is started and stopped around it."""
    from distributed import Client, LocalCluster

    if address:
        try:
            client = Client(address, timeout="15s")
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


def _forward_worker_logs(client: Client) -> None:
    """With -v/-vv the workers' workbench logs (partitions started, retried, committed,
    quarantined) reach this process's log, as if the tasks ran here."""
    level = logging.getLogger("workbench").getEffectiveLevel()
    if level <= logging.INFO:
        client.forward_logging("workbench", level=level)


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
