"""The application: ``create_app(store)`` for tests and embedding, ``serve()`` for
``workbench serve``.

Versioned under ``/api/v1`` (a breaking change gets ``/api/v2`` beside it); the OpenAPI
document is at ``/api/v1/openapi.json`` and its interactive page at ``/api/v1/docs``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from importlib import metadata

from fastapi import APIRouter, FastAPI
from sqlalchemy.engine import Engine

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
from workbench.store.database import create_store_engine
from workbench.store.handle import Store

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
DEFAULT_RATE_LIMIT = "600/minute"


def create_app(
    store: Store,
    *,
    rate_limit: str = DEFAULT_RATE_LIMIT,
    rate_limit_storage: str | None = None,
    dask_address: str | None = None,
    ready_timeout: float = 2.0,
) -> FastAPI:
    """The API over ``store``, which must be opened with the owner's login (it acts for the
    users whose tokens it is shown)."""
    admin = _admin_engine(store)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.runs.stop_all()
        admin.dispose()

    app = FastAPI(
        title="workbench",
        version=metadata.version("workbench"),
        summary="Database migrations into PostgreSQL: projects, matching, jobs, lineage",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.callers = Callers(store, admin, RateLimit(rate_limit, rate_limit_storage))
    app.state.runs = Runs()
    app.state.dask_address = dask_address
    app.state.ready_timeout = ready_timeout
    problems.install(app)
    app.include_router(health.router)
    v1 = APIRouter(prefix=PREFIX)
    for part in (routes_projects, routes_matching, routes_jobs, routes_governance):
        v1.include_router(part.router)
    app.include_router(v1)
    return app


def _admin_engine(store: Store) -> Engine:
    if store.admin_url is None or store.identity.switch_to is None:
        raise ConfigurationError(
            "The HTTP API acts for many users, so it needs the store owner's login: set "
            "WORKBENCH_DATABASE_URL to the owner's (or WORKBENCH_DATABASE_ADMIN_URL beside a "
            "user's own login), or use the embedded store"
        )
    return create_store_engine(store.admin_url, store.settings.connect_timeout)
