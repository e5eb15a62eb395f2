"""The edge-case databases of tests/connectors, shared with the schema tests."""

from tests.connectors.conftest import mysql_edge, pg_edge, sqlite_edge

__all__ = ["mysql_edge", "pg_edge", "sqlite_edge"]
