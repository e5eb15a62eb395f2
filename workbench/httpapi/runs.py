"""Jobs the API starts run in the server's own threads; the caller gets the job's id at once
and watches it with ``GET /api/v1/jobs/{id}`` (the job records its progress in the store as
any run does). A cancel reaches a job here through its event, and a job run elsewhere (a
notebook, the CLI) through the store (``jobs.request_cancel``), which its heartbeat reads."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from workbench.errors import WorkbenchError

log = logging.getLogger(__name__)

StartJob = Callable[[threading.Event, Callable[[int], None]], Any]


class Runs:
    """The jobs this server runs: id -> (thread, cancel event)."""

    def __init__(self) -> None:
        self._running: dict[int, tuple[threading.Thread, threading.Event]] = {}
        self._lock = threading.Lock()

    def start(self, what: str, run: StartJob, wait: float = 60.0) -> int:
        """Start ``run(cancel, on_job)`` in a thread; return the job's id once the run has
        created the job. A run that fails before that (a refused policy, a missing mapping)
        raises its error here, so the caller hears it in the response."""
        created = threading.Event()
        job: dict[str, Any] = {}
        cancel = threading.Event()

        def on_job(job_id: int) -> None:
            job["id"] = job_id
            with self._lock:
                self._running[job_id] = (threading.current_thread(), cancel)
            created.set()

        def body() -> None:
            try:
                run(cancel, on_job)
            except BaseException as exc:  # recorded in the job; kept for the caller if early
                job["error"] = exc
                if "id" in job:
                    log.info("%s job %s ended: %s", what, job["id"], exc)
            finally:
                created.set()
                with self._lock:
                    self._running.pop(job.get("id", -1), None)

        thread = threading.Thread(target=body, name=f"wb-api-{what}", daemon=True)
        thread.start()
        created.wait(wait)
        if "id" not in job:
            error = job.get("error")
            if isinstance(error, WorkbenchError):
                raise error
            raise RuntimeError(f"The {what} job did not start: {error!r}")
        return int(job["id"])

    def cancel_here(self, job_id: int) -> bool:
        """Cancel a job this server runs; False when it runs elsewhere."""
        with self._lock:
            found = self._running.get(job_id)
        if found is None:
            return False
        found[1].set()
        return True

    def running(self) -> list[int]:
        with self._lock:
            return sorted(self._running)

    def stop_all(self, wait: float = 30.0) -> None:
        """Cancel every job here and wait for their threads (the server is stopping)."""
        with self._lock:
            found = list(self._running.values())
        for _, cancel in found:
            cancel.set()
        for thread, _ in found:
            thread.join(wait)
