"""The application: ``create_app(store)`` for tests and embedding, ``serve()`` for
``workbench serve``.

Versioned under ``/api/v1`` (a breaking change gets ``/api/v2`` beside it); the OpenAPI
document is at ``/api/v1/openapi.json`` and its interactive page at ``/api/v1/docs``.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import AsyncIterator
from importlib import metadata
from pathlib import Path

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from workbench import telemetry
from workbench.errors import ConfigurationError
from workbench.httpapi import (
    health,
    problems,
    routes_governance,
    routes_jobs,
    routes_matching,
    routes_projects,
)
from workbench.httpapi.auth import Callers, RateLimit
from workbench.httpapi.runs import Runs
from workbench.store.handle import Store

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
DEFAULT_RATE_LIMIT = "600/minute"
POOL = 20  # store connections kept open: about as many as requests answered at once


def create_app(
    store: Store,
    *,
    rate_limit: str = DEFAULT_RATE_LIMIT,
    rate_limit_storage: str | None = None,
    dask_address: str | None = None,
    ready_timeout: float = 2.0,
    files_under: tuple[str | Path, ...] = (),
) -> FastAPI:
    """The API over ``store``, which must be opened with the owner's login (it acts for the
    users whose tokens it is shown)."""
    # as many connections as requests run at once on the server's threads; no test round trip
    # per request: a lost connection fails one request (503, retry) and renews the pool
    telemetry.tracer()  # installs the OTLP exporter when an endpoint is configured
    admin = _admin_engine(store, POOL)
    store = store.with_pool(POOL, pre_ping=False)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await admin.open()
        yield
        app.state.runs.stop_all()
        await admin.close()
        store.engine.dispose()

    app = FastAPI(
        title="workbench",
        version=metadata.version("workbench"),
        summary="Database migrations into PostgreSQL: projects, matching, jobs, lineage",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry spans, one per request (named by route, continuing a
        # caller's traceparent), through the provider workbench.telemetry installs or the
        # application's; no per-step spans, metrics or logs (the monitor has its own)
        telemetry={"tracing": True, "operation_spans": False, "metrics": False, "logs": False},
    )
    app.state.callers = Callers(store, admin, RateLimit(rate_limit, rate_limit_storage))
    app.state.runs = Runs()
    app.state.dask_address = dask_address
    app.state.ready_timeout = ready_timeout
    app.state.file_roots = tuple(Path(p) for p in files_under)  # see httpapi/guard.py
    problems.install(app)
    app.include_router(health.router)
    for part in (routes_projects, routes_matching, routes_jobs, routes_governance):
        app.include_router(part.router, prefix=PREFIX)
    return app


def _admin_engine(store: Store, pool: int) -> AsyncConnectionPool:
    if store.admin_url is None or store.identity.switch_to is None:
        raise ConfigurationError(
            "The HTTP API acts for many users, so it needs the store owner's login: set "
            "WORKBENCH_DATABASE_URL to the owner's (or WORKBENCH_DATABASE_ADMIN_URL beside a "
            "user's own login), or use the embedded store"
        )
    conninfo = store.admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    return AsyncConnectionPool(
        conninfo,
        min_size=2,
        max_size=pool,
        open=False,
        timeout=store.settings.connect_timeout,
        kwargs={
            "autocommit": True,
            "application_name": "workbench",
            "connect_timeout": max(2, math.ceil(store.settings.connect_timeout)),
        },
    )


# `workbench serve --workers N` hands its options to each worker process through this
SERVE_OPTIONS = "WORKBENCH_SERVE_OPTIONS"


def from_environment() -> FastAPI:
    """The app of one worker process of ``workbench serve --workers N`` (uvicorn's factory):
    each opens the store itself, with the options the command put in the environment."""
    import json
    import os

    from workbench.store.handle import open_store

    options = json.loads(os.environ.get(SERVE_OPTIONS) or "{}")
    return create_app(open_store(migrate=False), **options)
