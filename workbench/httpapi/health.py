"""``/health/live`` (the process answers) and ``/health/ready`` (the store, and the Dask
scheduler when one is configured, each answer within a timeout): what a load balancer or
Kubernetes probes. No token needed; no answer names a secret."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "live"}


@router.get("/health/ready")
async def ready(request: Request) -> JSONResponse:
    """200 when every dependency answers in time, else 503 naming the ones that did not."""
    state = request.app.state
    checks: dict[str, Callable[[], str]] = {"store": lambda: _store(state.callers.store.engine)}
    if state.dask_address:
        checks["dask"] = lambda: _dask(state.dask_address, state.ready_timeout)
    results = await asyncio.gather(
        *(_timed(name, check, state.ready_timeout) for name, check in checks.items())
    )
    ok = all(r["ok"] for r in results)
    body = {"status": "ready" if ok else "not ready", "checks": {r.pop("name"): r for r in results}}
    return JSONResponse(body, status_code=200 if ok else 503)


async def _timed(name: str, check: Callable[[], str], timeout: float) -> dict[str, Any]:
    began = time.perf_counter()
    try:
        detail = await asyncio.wait_for(run_in_threadpool(check), timeout)
        ok = True
    except TimeoutError:
        detail, ok = f"no answer within {timeout:g} s", False
    except Exception as exc:  # whatever failed, said without the URL's secrets
        from workbench.urls import mask_text

        detail, ok = mask_text(f"{type(exc).__name__}: {exc}").splitlines()[0][:300], False
    ms = round((time.perf_counter() - began) * 1000, 1)
    return {"name": name, "ok": ok, "detail": detail, "ms": ms}


def _store(engine: Any) -> str:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return "answers"


def _dask(address: str, timeout: float) -> str:
    from distributed import Client

    with Client(address, timeout=f"{timeout}s") as client:
        workers = len(client.scheduler_info().get("workers", {}))
    return f"scheduler answers; {workers} worker(s)"
