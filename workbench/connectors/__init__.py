"""Connectors: one module per kind of database behind the small interface in ``base``.

``connect(url)`` picks the connector class by the URL's scheme. Driver modules are imported
lazily, so a missing optional driver fails only when that kind is used, naming the extra.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from workbench.connectors.base import Capabilities, ConnectionTest, Connector, Partition
from workbench.connectors.dialect import SqlDialect
from workbench.errors import CannotConnectError, UnsupportedError, WorkbenchError
from workbench.urls import MASK, kind_of, mask_text, mask_url, split_secret

# kind -> "module:Class"; a new kind is one line here plus its module (docs/adding-a-connector.md).
REGISTRY: dict[str, str] = {
    "postgresql": "workbench.connectors.postgres:PostgresConnector",
    "mysql": "workbench.connectors.mysql:MySQLConnector",
    "sqlite": "workbench.connectors.sqlite:SQLiteConnector",
    "duckdb": "workbench.connectors.duckdb:DuckDBConnector",
    "files": "workbench.connectors.files:FilesConnector",
}


def connector_class(kind: str) -> type[Connector]:
    module_name, class_name = REGISTRY[kind].split(":")
    module = importlib.import_module(module_name)
    cls: type[Connector] = getattr(module, class_name)
    return cls


def dialect_of(kind: str) -> SqlDialect:
    """The SQL dialect of a kind (its connector module's ``DIALECT``), by kind name."""
    if kind not in REGISTRY:
        raise UnsupportedError(f"No connector for {kind!r}; known kinds: {sorted(REGISTRY)}")
    return connector_class(kind).dialect


def connect(
    url: str, *, connect_timeout: float = 10.0, options: dict[str, Any] | None = None
) -> Connector:
    """Build the connector for ``url`` (nothing is opened until it is used)."""
    cls = connector_class(kind_of(url))
    return cls(url, connect_timeout=connect_timeout, options=options)


def local_path(url: str) -> Path | None:
    """The file or folder on this machine ``url`` reads (SQLite, DuckDB, CSV/Parquet), or
    None for a database server."""
    return connector_class(kind_of(url)).local_path(url)


def check_url(
    url: str, label: str, *, connect_timeout: float = 10.0, options: dict[str, Any] | None = None
) -> ConnectionTest:
    """Connect once; any error is typed and names ``label``, with the password masked."""
    secret = split_secret(url)[1] or None

    def scrub(message: str) -> str:
        message = mask_text(message)
        return message.replace(secret, MASK) if secret else message

    try:
        connector = connect(url, connect_timeout=connect_timeout, options=options)
        try:
            return connector.test()
        finally:
            connector.close()
    except WorkbenchError as exc:
        raise type(exc)(scrub(f"{label}: {exc.message}"), **exc.fields) from None
    except Exception as exc:  # a driver error that escaped the connector: keep it typed
        raise CannotConnectError(scrub(f"{label}: {type(exc).__name__}: {exc}")) from None


__all__ = [
    "REGISTRY",
    "Capabilities",
    "ConnectionTest",
    "Connector",
    "Partition",
    "SqlDialect",
    "check_url",
    "connect",
    "connector_class",
    "dialect_of",
    "kind_of",
    "local_path",
    "mask_url",
]
