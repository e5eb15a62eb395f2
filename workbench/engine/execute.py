"""Run a job's partition tasks on Dask (or, for a small job, on threads of this process) and
gather their results as they finish.

The largest table's partitions run first, one table after another, so each table completes
as early as it can and its validation and keys (engine.tails) overlap the copy of the rest. A dead
worker's tasks are rescheduled by Dask itself; transient database errors are retried inside
the task (see ``copy.copy_partition``); anything else fails the job fast, cancelling the rest.
The error budget is enforced here across partitions.

A job with at most :data:`SMALL_JOB_ROWS` rows that need Python (``plan.general_rows``), no
cluster asked for, runs the same task function on a few threads here: starting a local
cluster costs seconds, copying 10,000 rows a fraction of one, and rows kept in native code
gain nothing from worker processes. A thread has no process of its own to lose; its
transient errors are retried inside the task exactly as on a worker, and the partition's
checkpoint makes a re-run exactly-once.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from workbench.connectors.sealed import reveal, seal
from workbench.engine.copy import (
    PartitionResult,
    PartitionTask,
    cancel_event_name,
    cancel_here,
    copy_partition,
)
from workbench.errors import (
    ErrorBudgetExceededError,
    JobCancelledError,
    MigrationError,
    WorkbenchError,
)

if TYPE_CHECKING:
    from distributed import Client, Future

log = logging.getLogger(__name__)


def copy_window(slots: int, limit: int | None, free: Sequence[int | None]) -> int:
    """Partitions at once: the runner's slots, an explicit limit, else at most half of the
    connections each server still accepts (other clients keep the rest)."""
    if limit is not None:
        return max(1, min(slots, limit))
    return max(1, min([slots, *(f // 2 for f in free if f is not None)]))


def throttled(
    tasks: Sequence[PartitionTask], rows_per_second: float | None, window: int
) -> list[PartitionTask]:
    """The job's rate shared by the partitions that run at once: the total stays the job's."""
    if not rows_per_second:
        return list(tasks)
    return [replace(t, max_rows_per_second=rows_per_second / window) for t in tasks]


# A job with at most this many rows that need Python (engine.plan.general_rows: transforms,
# masks, a row-at-a-time reader) runs on threads of the driver, unless a Dask address is
# set: no cluster is started for it. The copy's work is in native code that releases the
# GIL (drivers, Arrow, libpq), so threads keep up with worker processes: TPC-H SF0.1 (866,602
# rows) MariaDB -> PostgreSQL took 5.7 s on threads against 8.4-8.8 s with a local cluster,
# SF1 38.2-39.0 s against 38.6-39.6 s on the general path; SF1 passed as COPY text 24.1-24.3
# s against 25.7-26.6 s, with 7 CPU-s of the workbench's own against 13.
SMALL_JOB_ROWS = 2_000_000


class TaskRunner(Protocol):
    """Where partition tasks run: a Dask cluster or threads of this process."""

    dashboard: str | None

    def slots(self) -> int:
        """Tasks that can run at the same time."""
        ...

    def submit(self, task: PartitionTask, key: str, priority: int) -> Any: ...

    def wait(self, futures: list[Any], timeout: float) -> tuple[set[Any], set[Any]]:
        """(done, not done) once at least one is done; TimeoutError after ``timeout``."""
        ...

    def cancel(self, futures: list[Any], job_key: str) -> None:
        """Drop the queued tasks and tell the running ones to stop (before their commit)."""
        ...

    def clear_cancel(self, job_key: str) -> None:
        """A resumed job keeps its key: forget an earlier cancel of it."""
        ...


class DaskRunner:
    def __init__(self, client: Client, key: bytes | None = None) -> None:
        self.client = client
        self.key = key  # seals the tasks' URLs that hold a password (connectors.sealed)
        self.dashboard: str | None = getattr(client, "dashboard_link", None)

    def slots(self) -> int:
        return max(1, int(sum(self.client.nthreads().values())))

    def submit(self, task: PartitionTask, key: str, priority: int) -> Future[PartitionResult]:
        if self.key is not None:  # the scheduler holds the task: no password in clear there
            task = replace(
                task,
                source_url=seal(reveal(task.source_url), self.key),
                target_url=seal(reveal(task.target_url), self.key),
            )
        return self.client.submit(copy_partition, task, key=key, pure=False, priority=priority)

    def wait(self, futures: list[Any], timeout: float) -> tuple[set[Any], set[Any]]:
        from distributed.client import FIRST_COMPLETED, _wait

        # distributed.wait() waits through the process's *default* client, the newest one
        # made: a notebook's own Client (or a second job) would be asked about this job's
        # futures on its event loop and fail; ask the job's own client
        done_and_not: tuple[set[Any], set[Any]] = self.client.sync(
            _wait, futures, timeout=timeout, return_when=FIRST_COMPLETED
        )
        return done_and_not

    def cancel(self, futures: list[Any], job_key: str) -> None:
        from distributed import Event

        Event(cancel_event_name(job_key), client=self.client).set()
        self.client.cancel(futures)

    def clear_cancel(self, job_key: str) -> None:
        from distributed import Event

        Event(cancel_event_name(job_key), client=self.client).clear()


M_ARENA_MAX = -8  # glibc's mallopt parameter


def few_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives threads malloc arenas of their own (up to 8 a core) and keeps what they
    freed for them: a copy's threads (a reader thread per partition) grew the process by
    100 MB over TPC-H SF1 (peak 362 MB; 257 MB with two arenas). Nothing off glibc."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: its allocator's business
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, arenas)


class ThreadRunner:
    """Tasks on a few threads of this process (tasks start in the order they are submitted)."""

    dashboard: str | None = None

    def __init__(self, threads: int) -> None:
        few_malloc_arenas()
        self.threads = threads
        self.pool = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="wb-copy")

    def slots(self) -> int:
        return self.threads

    def submit(
        self, task: PartitionTask, key: str, priority: int
    ) -> concurrent.futures.Future[PartitionResult]:
        return self.pool.submit(copy_partition, task)

    def wait(self, futures: list[Any], timeout: float) -> tuple[set[Any], set[Any]]:
        done, not_done = concurrent.futures.wait(
            futures, timeout=timeout, return_when=concurrent.futures.FIRST_COMPLETED
        )
        if not done:
            raise TimeoutError
        return done, not_done

    def cancel(self, futures: list[Any], job_key: str) -> None:
        cancel_here(job_key)
        for future in futures:
            future.cancel()

    def clear_cancel(self, job_key: str) -> None:
        cancel_here(job_key, cancelled=False)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class ErrorBudget:
    max_rows: int | None = None  # quarantined rows allowed in the whole job
    max_ratio: float | None = None  # quarantined / read allowed (checked once 1,000 rows are read)

    def check(self, quarantined: int, read: int) -> None:
        if self.max_rows is not None and quarantined > self.max_rows:
            raise ErrorBudgetExceededError(
                f"{quarantined} rows were quarantined, more than the error budget of "
                f"{self.max_rows}; the job stopped. Inspect _workbench.quarantine in the target, "
                "fix the mapping or the data, or raise --max-bad-rows, then resume.",
                quarantined=quarantined,
            )
        if self.max_ratio is not None and read >= 1000 and quarantined / read > self.max_ratio:
            raise ErrorBudgetExceededError(
                f"{quarantined} of {read} rows ({quarantined / read:.2%}) were quarantined, more "
                f"than the error budget of {self.max_ratio:.2%}; the job stopped. Inspect "
                "_workbench.quarantine in the target, fix the mapping or the data, then resume.",
                quarantined=quarantined,
            )


def run_partitions(
    runner: TaskRunner,
    tasks: Sequence[PartitionTask],
    on_result: Callable[[PartitionTask, PartitionResult], None],
    budget: ErrorBudget = ErrorBudget(),
    cancel: threading.Event | None = None,
    on_start: Callable[[PartitionTask], None] | None = None,
    on_tick: Callable[[], None] | None = None,
    poll_seconds: float = 1.0,
    window: int | None = None,
    key_prefix: str = "copy",
) -> list[PartitionResult]:
    """Run every task, at most ``window`` at once (default: the runner's slots), biggest
    tables first; call ``on_result`` as each finishes; return all results. ``key_prefix``
    names the Dask keys: a second run of a partition on the same client (a repair) must use
    another, or Dask hands back the first run's result without running it."""
    if not tasks:
        return []
    sizes: dict[str, int] = {}
    for task in tasks:
        name = task.table.qualified_name
        sizes[name] = sizes.get(name, 0) + int(task.partition.row_estimate or 0)
    rank = {name: i for i, name in enumerate(sorted(sizes, key=lambda n: sizes[n]))}

    def priority(task: PartitionTask) -> int:  # bigger tables first, a table's parts in order
        return rank[task.table.qualified_name] * 1_000_000 - task.partition.index

    runner.clear_cancel(tasks[0].job_key)
    futures: dict[Any, PartitionTask] = {}
    queue = sorted(tasks, key=priority, reverse=True)
    window = max(1, window or runner.slots())

    pending: set[Any] = set()  # submitted, result not taken yet

    def submit_more() -> None:  # keep the window full: each task holds two connections
        while queue and sum(1 for f in pending if not f.done()) < window:
            task = queue.pop(0)
            key = f"{key_prefix}-{task.job_key}-{task.table.qualified_name}-{task.partition.index}"
            future = runner.submit(task, key, priority(task))
            futures[future] = task
            pending.add(future)
            if on_start is not None:
                on_start(task)

    submit_more()
    results: list[PartitionResult] = []
    quarantined = read = 0
    try:
        while pending or queue:
            if cancel is not None and cancel.is_set():
                raise JobCancelledError("The job was cancelled; finished partitions are kept.")
            try:
                done, _ = runner.wait(list(pending), timeout=poll_seconds)
            except TimeoutError:
                if on_tick is not None:
                    on_tick()
                continue
            for fut in done:
                pending.discard(fut)
                task = futures[fut]
                try:
                    result = fut.result()
                except MigrationError:
                    raise
                except WorkbenchError as exc:  # keep its kind (and exit code): name the place
                    raise type(exc)(
                        f"Partition {task.partition.label} failed: {exc.message}",
                        **{**exc.fields, "table": task.table.qualified_name,
                           "partition": task.partition.index},
                    ) from exc  # fmt: skip
                except Exception as exc:
                    raise MigrationError(
                        f"Partition {task.partition.label} failed: {type(exc).__name__}: "
                        f"{str(exc).strip()[:500]}",
                        table=task.table.qualified_name,
                        partition=task.partition.index,
                    ) from exc
                results.append(result)
                quarantined += result.rows_quarantined
                read += result.rows_read
                on_result(task, result)
                budget.check(quarantined, read)
            submit_more()
    finally:
        unfinished = [f for f in futures if not f.done()]
        if unfinished:
            runner.cancel(unfinished, tasks[0].job_key)
    return results
