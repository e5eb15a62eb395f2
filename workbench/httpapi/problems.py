"""One JSON shape for every error the API answers with:

    {"error": {"type": "NotFoundError", "message": "No project 'shop' ...", "fields": {...}}}

``type`` is the typed error's class name (``workbench.errors``), ``fields`` its structured
fields; the HTTP status follows the kind of error. Messages never carry a secret (the errors'
own rule); an unexpected exception answers 500 with its type only, and is logged.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from workbench.errors import (
    AlreadyExistsError,
    DatabaseConnectionError,
    InUseError,
    InvalidInputError,
    MigrationError,
    NotFoundError,
    PermissionDeniedError,
    TerminalError,
    TransientError,
    WorkbenchError,
)
from workbench.store.redact import redact
from workbench.urls import mask_text

log = logging.getLogger(__name__)


class NotAuthenticatedError(PermissionDeniedError):
    """No token, or a token that is unknown, revoked or expired."""


class RateLimitedError(TransientError):
    """The token made more requests than its limit allows; retry after ``retry_after`` s."""


class JobConflictError(TerminalError):
    """The job is not in a state where this can be done (e.g. cancel a finished job)."""


# the first kind that matches decides the status (subclasses before their bases)
STATUS: tuple[tuple[type[WorkbenchError], int], ...] = (
    (NotAuthenticatedError, 401),
    (RateLimitedError, 429),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (AlreadyExistsError, 409),
    (InUseError, 409),
    (JobConflictError, 409),
    (InvalidInputError, 422),
    (MigrationError, 409),
    (DatabaseConnectionError, 502),
    (TransientError, 503),
    (TerminalError, 400),
)


def status_of(exc: WorkbenchError) -> int:
    return next((status for kind, status in STATUS if isinstance(exc, kind)), 500)


def problem(
    kind: str, message: str, status: int, fields: dict[str, Any] | None = None
) -> JSONResponse:
    body = {
        "error": {
            "type": kind,
            "message": mask_text(message),
            "fields": redact(fields or {}, key_depth=1),
        }
    }
    return JSONResponse(body, status_code=status)


def install(app: FastAPI) -> None:
    """Answer every error in the one shape."""

    @app.exception_handler(WorkbenchError)
    async def workbench_error(request: Request, exc: WorkbenchError) -> JSONResponse:
        response = problem(type(exc).__name__, exc.message, status_of(exc), exc.fields)
        if isinstance(exc, RateLimitedError):
            response.headers["Retry-After"] = str(exc.fields["retry_after"])
        if isinstance(exc, NotAuthenticatedError):
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        said = "; ".join(f"{e['where']}: {e['problem']}" for e in errors)
        return problem(
            "InvalidInputError", f"The request is not valid: {said}", 422, {"errors": errors}
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = "NotFoundError" if exc.status_code == 404 else "HTTPError"
        message = (
            f"No such endpoint: {request.method} {request.url.path}; the API's endpoints are "
            "listed at /api/v1/docs"
            if exc.status_code == 404
            else str(exc.detail)
        )
        return problem(kind, message, exc.status_code)

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(DBAPIError)
    async def store_lost(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, DBAPIError) and not exc.connection_invalidated:
            return await unexpected(request, exc)
        log.warning("%s %s: the store's connection was lost", request.method, request.url.path)
        response = problem(
            "StoreUnavailableError",
            "The metadata store's connection was lost (a restart?); the server renews its "
            "connections: retry the request",
            503,
        )
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return problem(
            type(exc).__name__,
            f"The server failed on {request.method} {request.url.path} "
            f"({type(exc).__name__}); its log has the details",
            500,
        )
