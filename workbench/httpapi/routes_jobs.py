"""Jobs: start a copy or a migration, watch it, cancel it, validate it again."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from workbench.engine.options import CopyOptions, with_tuples
from workbench.errors import InvalidInputError
from workbench.httpapi import guard
from workbench.httpapi.auth import CallerStore
from workbench.httpapi.bodies import NewJob, ValidateRequest
from workbench.httpapi.problems import JobConflictError
from workbench.httpapi.runs import Runs
from workbench.store import access, connections, jobs
from workbench.store.jobs import JobRecord

router = APIRouter(tags=["jobs"])

HIDDEN_PARAMETERS = ("sealed",)  # the job's URLs, encrypted for its workers: not for callers


def job_view(job: JobRecord) -> dict[str, Any]:
    data = job.to_dict()
    data["parameters"] = {k: v for k, v in data["parameters"].items() if k not in HIDDEN_PARAMETERS}
    stats, tables = job.statistics, job.statistics.get("tables") or {}
    data["progress"] = {
        "rows_copied": stats.get("rows_copied"),
        "rows_estimate": stats.get("rows_estimate"),
        "rows_per_second": stats.get("rows_per_second"),
        "tables_done": sum(1 for t in tables.values() if t.get("done")),
        "partitions_done": sum(int(t.get("partitions_done") or 0) for t in tables.values()),
    }
    data["finished"] = job.is_terminal
    return data


def _copy_options(raw: dict[str, Any], **defaults: Any) -> CopyOptions:
    try:
        return CopyOptions(**{**defaults, **with_tuples(raw)})
    except TypeError as exc:  # an unknown field
        raise InvalidInputError(
            f"Unknown copy option in {sorted(raw)}: {exc}; the options are CopyOptions' "
            "fields, as `workbench copy --help` lists them"
        ) from exc


@router.post("/projects/{project}/jobs", status_code=status.HTTP_202_ACCEPTED)
def start_job(
    store: CallerStore, project: str, body: NewJob, request: Request, response: Response
) -> dict[str, Any]:
    """Start a job in the server; answers at once with the job (watch it at its Location)."""
    access.require(store, "edit", f"start a {body.kind} job in project {project!r}")
    guard.check_options(body.options)
    roots = request.app.state.file_roots
    store = store.knowing_role(None)  # the job outlives the request: its checks read the role
    run: Callable[[threading.Event, Callable[[int], None]], Any]
    if body.kind == "migrate":
        from workbench.engine.migrate import run_migration

        options = _copy_options(body.options, if_exists="append")
        for record in connections.list_connections(store, project):
            guard.check_url(record.url, roots, f"Connection {record.name!r}")

        def run(cancel: threading.Event, on_job: Callable[[int], None]) -> Any:
            return run_migration(
                project,
                store=store,
                options=options,
                cancel=cancel,
                on_job=on_job,
                allow_unmasked_pii=body.allow_unmasked_pii,
            )
    else:
        from workbench.engine.migrate import with_connection_options
        from workbench.engine.run import copy_database

        if not body.source or not body.target:
            raise InvalidInputError(
                "A copy job names its `source` and `target` connections of the project"
            )
        source = connections.get_connection(store, project, body.source)
        target = connections.get_connection(store, project, body.target)
        for record in (source, target):
            guard.check_url(record.url, roots, f"Connection {record.name!r}")
        options = with_connection_options(_copy_options(body.options), source)
        urls = connections.connection_url(store, source), connections.connection_url(store, target)

        def run(cancel: threading.Event, on_job: Callable[[int], None]) -> Any:
            return copy_database(
                *urls,
                options,
                store=store,
                project=project,
                cancel=cancel,
                on_job=on_job,
                connection_ids=(source.id, target.id),
            )

    runs: Runs = request.app.state.runs
    job_id = runs.start(body.kind, run)
    response.headers["Location"] = f"/api/v1/jobs/{job_id}"
    return job_view(jobs.get_job(store, job_id))


@router.get("/projects/{project}/jobs")
def list_jobs(store: CallerStore, project: str, limit: int = 50) -> list[dict[str, Any]]:
    return [job_view(j) for j in jobs.list_jobs(store, project, limit=min(limit, 500))]


@router.get("/jobs/{job_id}")
def get_job(store: CallerStore, job_id: int) -> JSONResponse:
    """The job: status, progress (rows, partitions, rows/s), statistics, error."""
    return JSONResponse(job_view(jobs.get_job(store, job_id)))


@router.get("/jobs/{job_id}/logs")
def job_logs(store: CallerStore, job_id: int, limit: int = 200) -> list[dict[str, Any]]:
    return [entry.to_dict() for entry in jobs.job_logs(store, job_id, limit=min(limit, 5000))]


@router.post("/jobs/{job_id}/cancel", status_code=status.HTTP_202_ACCEPTED)
def cancel_job(store: CallerStore, job_id: int, request: Request) -> dict[str, Any]:
    """Ask the job to stop: at once if this server runs it, else within a few seconds (its
    driver, wherever it runs, reads the request with its heartbeat)."""
    job = jobs.get_job(store, job_id)
    if job.is_terminal:
        raise JobConflictError(
            f"Job {job_id} has already ended ({job.status}); there is nothing to cancel",
            job_id=job_id,
            status=job.status,
        )
    record = jobs.request_cancel(store, job_id)
    runs: Runs = request.app.state.runs
    runs.cancel_here(job_id)
    return job_view(record)


@router.post("/jobs/{job_id}/validate")
def validate_job(
    store: CallerStore, job_id: int, body: ValidateRequest, request: Request
) -> dict[str, Any]:
    """Validate a finished job's copy again (counts and checksums per partition, in both
    databases); with ``repair``, re-copy the partitions that differ first."""
    from workbench.engine.repair import validate_job as validate

    recorded = jobs.get_job(store, job_id).parameters
    for side in ("source", "target"):  # the URLs are recorded masked: their paths are whole
        if recorded.get(side):
            guard.check_url(recorded[side], request.app.state.file_roots, f"The job's {side}")

    return validate(job_id, store=store, repair=body.repair).as_dict()
