"""What the engine writes to the metadata store while a job runs (so dashboards follow live).

Thin wrappers over ``store.jobs``: per-partition checkpoints mirrored from the target,
running statistics, log events users must see, and the sealed URLs a resume needs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from workbench.engine.options import CopyOptions
from workbench.errors import NotFoundError, ResumeRefusedError
from workbench.store import Store, jobs
from workbench.store.models import MigrationJob
from workbench.store.projects import create_project, get_project

log = logging.getLogger(__name__)

DEFAULT_PROJECT = "adhoc"


def ensure_project(store: Store, name: str | None) -> int:
    name = name or DEFAULT_PROJECT
    try:
        return get_project(store, name).id
    except NotFoundError:
        return create_project(store, name, "Jobs started with `workbench copy`").id


def seal(store: Store, source_url: str, target_url: str) -> str:
    """Encrypt the URLs (with passwords) so a resume can reconnect; never stored in clear."""
    payload = json.dumps({"source": source_url, "target": target_url})
    return store.cipher.encrypt(payload).decode("ascii")


def unseal(store: Store, token: str) -> tuple[str, str]:
    data = json.loads(store.cipher.decrypt(token.encode("ascii"), what="the job's connection URLs"))
    return data["source"], data["target"]


@dataclass(frozen=True)
class StoredJob:
    """What a stored copy job needs to run again (resume, validate, repair, lineage)."""

    job_id: int
    status: str
    job_key: str
    source_url: str
    target_url: str
    options: CopyOptions
    fingerprint: str | None


def load_job(store: Store, job_id: int, cannot: str = "run again") -> StoredJob:
    """The one way to load a stored copy job; refused (``ResumeRefusedError``) for a job
    started by a version that kept no plan, naming what cannot be done."""
    job = jobs.get_job(store, job_id)
    params = job.parameters
    if "sealed" not in params or "job_key" not in params:
        raise ResumeRefusedError(
            f"Job {job_id} was not started by this version (it has no stored plan): it cannot "
            f"be {cannot}; start a new job."
        )
    source_url, target_url = unseal(store, params["sealed"])
    return StoredJob(
        job_id=job_id,
        status=job.status,
        job_key=params["job_key"],
        source_url=source_url,
        target_url=target_url,
        options=CopyOptions.from_dict(params.get("options", {})),
        fingerprint=job.fingerprint,
    )


def set_fingerprint(store: Store, job_id: int, fingerprint: str) -> None:
    with store.session() as session:
        session.execute(
            update(MigrationJob).where(MigrationJob.id == job_id).values(fingerprint=fingerprint)
        )


class JobRecorder:
    """Accumulates per-table statistics and mirrors them to the store, at most every 0.5 s."""

    def __init__(self, store: Store, job_id: int, estimates: dict[str, int]) -> None:
        self.store = store
        self.job_id = job_id
        self.started = time.monotonic()
        self.tables: dict[str, dict[str, Any]] = {
            name: {
                "rows_estimate": est,
                "rows_read": 0,
                "rows_written": 0,
                "rows_quarantined": 0,
                "bytes": 0,
                "partitions_done": 0,
                "seconds": 0.0,
                "retries": 0,
            }
            for name, est in estimates.items()
        }
        self.partitions: dict[str, int] = {}
        self._lock = threading.Lock()
        self._last_flush = 0.0
        self.rate_history: list[tuple[float, int]] = []

    def set_partitions(self, counts: dict[str, int]) -> None:
        self.partitions = dict(counts)
        for name, n in counts.items():
            self.tables[name]["partitions"] = n

    def add(self, table: str, result: dict[str, Any], skipped: bool = False) -> None:
        with self._lock:
            t = self.tables[table]
            for key in ("rows_read", "rows_written", "rows_quarantined", "bytes"):
                t[key] += int(result.get(key, 0))
            t["partitions_done"] += 1
            t["seconds"] += float(result.get("seconds", 0.0))
            for key in ("read_seconds", "write_seconds"):
                t[key] = t.get(key, 0.0) + float(result.get(key, 0.0))
            t["retries"] += max(0, int(result.get("attempts", 1)) - 1)
            for column, n in (result.get("nulled") or {}).items():
                nulled = t.setdefault("nulled", {})
                nulled[column] = nulled.get(column, 0) + int(n)
            if skipped:
                t["partitions_skipped"] = t.get("partitions_skipped", 0) + 1
            if result.get("as_text"):  # passed through as the source's COPY text
                t["partitions_as_text"] = t.get("partitions_as_text", 0) + 1
        jobs.upsert_checkpoints(
            self.store,
            self.job_id,
            [
                {
                    "table_name": table,
                    "partition_index": result["index"],
                    "status": "done",
                    "rows_read": result.get("rows_read", 0),
                    "rows_written": result.get("rows_written", 0),
                    "rows_quarantined": result.get("rows_quarantined", 0),
                    "bytes": result.get("bytes", 0),
                    "attempts": result.get("attempts", 1),
                    "finished_at": datetime.now(UTC),
                }
            ],
        )
        self.flush()

    def totals(self) -> dict[str, Any]:
        with self._lock:
            rows = sum(t["rows_written"] for t in self.tables.values())
            read = sum(t["rows_read"] for t in self.tables.values())
            quarantined = sum(t["rows_quarantined"] for t in self.tables.values())
            size = sum(t["bytes"] for t in self.tables.values())
            retries = sum(t["retries"] for t in self.tables.values())
        seconds = time.monotonic() - self.started
        return {
            "rows_read": read,
            "rows_copied": rows,
            "rows_quarantined": quarantined,
            "bytes": size,
            "retries": retries,
            "seconds": round(seconds, 3),
            "rows_per_second": round(read / seconds, 1) if seconds > 0 else 0.0,
            "rows_estimate": sum(t["rows_estimate"] or 0 for t in self.tables.values()),
        }

    def flush(self, force: bool = False, **extra: Any) -> None:
        now = time.monotonic()
        if not force and now - self._last_flush < 0.5:
            return
        self._last_flush = now
        totals = self.totals()
        self.rate_history.append((round(totals["seconds"], 2), totals["rows_read"]))
        with self._lock:
            tables = {k: dict(v) for k, v in self.tables.items()}
        jobs.update_job_statistics(
            self.store,
            self.job_id,
            {
                **totals,
                "tables": tables,
                "progress": self.rate_history[-300:],
                **extra,
            },
        )


class Heartbeat:
    """Touches the job's heartbeat every few seconds while its driver lives, whatever phase it
    is in (a long index build writes no statistics); a job silent for a minute is shown as
    interrupted (see ``store.jobs.STALE_SECONDS``). Between beats it looks for a cancel asked
    for by another process (the HTTP API) and sets ``cancel`` when it finds one."""

    def __init__(self, store: Store, job_id: int, cancel: threading.Event | None = None) -> None:
        self.store, self.job_id, self.cancel = store, job_id, cancel
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="wb-heartbeat", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        last_beat = time.monotonic()
        while not self.stop.wait(jobs.CANCEL_POLL_SECONDS):
            with contextlib.suppress(Exception):  # the store blinked: the next beat tries again
                if time.monotonic() - last_beat >= jobs.HEARTBEAT_SECONDS:
                    jobs.touch(self.store, self.job_id)
                    last_beat = time.monotonic()
                if self.cancel is not None and jobs.cancel_requested(self.store, self.job_id):
                    log.info("job %s: a cancel was asked for from elsewhere", self.job_id)
                    self.cancel.set()

    def close(self) -> None:
        self.stop.set()
