"""Connectors: one module per kind of database behind the small interface in ``base``.

``connect(url)`` picks the connector class by the URL's scheme. Driver modules are imported
lazily, so a missing optional driver fails only when that kind is used, naming the extra.
"""

from __future__ import annotations

import importlib

from workbench.connectors.base import Capabilities, ConnectionTest, Connector, Partition
from workbench.connectors.urls import kind_of, mask_url

# kind -> "module:Class"; a new kind is one line here plus its module.
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
    return getattr(module, class_name)


def connect(url: str, *, connect_timeout: float = 10.0, options: dict | None = None) -> Connector:
    """Build the connector for ``url`` (nothing is opened until it is used)."""
    cls = connector_class(kind_of(url))
    return cls(url, connect_timeout=connect_timeout, options=options)


__all__ = [
    "REGISTRY",
    "Capabilities",
    "ConnectionTest",
    "Connector",
    "Partition",
    "connect",
    "connector_class",
    "kind_of",
    "mask_url",
]
