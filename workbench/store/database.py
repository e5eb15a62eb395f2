"""The store's SQLAlchemy engine: always psycopg 3, UTC sessions, bounded connect time.

Driver errors met while opening the store become the typed errors of ``workbench.errors``
with the URL masked.
"""

from __future__ import annotations

import logging
import math

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from workbench.errors import (
    AuthenticationError,
    CannotConnectError,
    ConfigurationError,
    DatabaseConnectionError,
    DatabaseMissingError,
    WorkbenchError,
)
from workbench.urls import mask_text

log = logging.getLogger(__name__)

_POSTGRES_SCHEMES = ("postgresql", "postgres")


def store_url(url: str) -> URL:
    """Parse a store URL and force the psycopg 3 driver (``postgresql+psycopg``)."""
    try:
        parsed = make_url(url.strip())
    except ArgumentError as exc:
        raise ConfigurationError(
            f"The store URL {_mask(url)!r} cannot be parsed; expected "
            "postgresql://user:password@host:5432/database (WORKBENCH_DATABASE_URL)"
        ) from exc
    scheme = parsed.drivername.split("+", 1)[0]
    if scheme not in _POSTGRES_SCHEMES:
        raise ConfigurationError(
            f"The metadata store must be PostgreSQL, got {scheme!r} in "
            f"{parsed.render_as_string(hide_password=True)!r}; fix WORKBENCH_DATABASE_URL "
            "or unset it to use the embedded store"
        )
    return parsed.set(drivername="postgresql+psycopg")


def create_store_engine(
    url: str | URL, connect_timeout: float, pool_size: int = 5, pre_ping: bool = True
) -> Engine:
    """``pool_size``: connections kept open for reuse; a server answering many requests at
    once needs as many as it runs at once, or each extra one is opened and closed per use.
    ``pre_ping``: test each connection as it is taken from the pool (a round trip); without
    it, the first use of connections the server lost fails once, and the pool is renewed."""
    parsed = url if isinstance(url, URL) else store_url(url)
    return create_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=2 * pool_size,
        pool_pre_ping=pre_ping,
        connect_args={
            # libpq takes whole seconds and treats anything below 2 as 2
            "connect_timeout": max(2, math.ceil(connect_timeout)),
            "options": "-c timezone=UTC",
            "application_name": "workbench",
        },
    )


def connection_error(exc: BaseException, url: str | URL, what: str = "the store") -> WorkbenchError:
    """Map a driver error raised while connecting to a typed error naming ``url`` (masked)."""
    shown = _mask(url)
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    sqlstate = getattr(orig, "sqlstate", None)
    text = _mask(" ".join(str(orig).split()) or type(orig).__name__)
    if sqlstate in ("28P01", "28000") or "password" in text.lower():
        return AuthenticationError(
            f"Cannot log in to {what} at {shown}: {text}; check the user name and password",
            url=shown,
        )
    if sqlstate == "3D000" or ("database" in text and "does not exist" in text):
        return DatabaseMissingError(
            f"Cannot open {what} at {shown}: {text}; create the database first", url=shown
        )
    if isinstance(exc, WorkbenchError):
        return exc
    return CannotConnectError(
        f"Cannot connect to {what} at {shown}: {text}; check that the server is running "
        "and reachable, or raise WORKBENCH_CONNECT_TIMEOUT",
        url=shown,
    )


def _mask(url: str | URL) -> str:

    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return mask_text(url)


__all__ = ["DatabaseConnectionError", "connection_error", "create_store_engine", "store_url"]
