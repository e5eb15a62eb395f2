"""Helpers for the store-backed matching tests: real SQLite/PostgreSQL tables from frames,
projects with a source and a target connection, and a second organization."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pytest
from psycopg import sql

from workbench.store import Store, connections, projects


def sqlite_db(path: Path, tables: dict[str, pd.DataFrame]) -> str:
    with sqlite3.connect(path) as con:
        for name, frame in tables.items():
            frame.to_sql(name, con, index=False)
    return f"sqlite:///{path}"


def pg_tables(url: str, ddl: str, rows: dict[str, pd.DataFrame] | None = None) -> None:
    """Run ``ddl`` in the database, then insert ``rows`` (table -> frame)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ddl)
        for name, frame in (rows or {}).items():
            query = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(name),
                sql.SQL(", ").join(map(sql.Identifier, frame.columns)),
                sql.SQL(", ").join(sql.Placeholder() * len(frame.columns)),
            )
            values = [tuple(v.item() if hasattr(v, "item") else v for v in r) for r in frame.values]
            with conn.cursor() as cur:
                cur.executemany(query, values)


def make_project(store: Store, name: str, source_url: str, target_url: str) -> None:
    projects.create_project(store, name)
    connections.add_connection(store, name, "src", source_url, role="source")
    connections.add_connection(store, name, "tgt", target_url, role="target")


def other_organization(store: Store, name: str = "acme") -> Store:
    """The same store seen by a member of another organization (made through the API: row
    level security refuses anything else)."""
    from workbench.store import organizations

    organizations.create_organization(store, name)
    return store.in_organization(name)


@pytest.fixture
def pg_target(pg_server) -> Iterator[str]:
    """A fresh PostgreSQL database for target tables; its URL."""
    name = pg_server.create_database("wbmt")
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture
def pg_target2(pg_server) -> Iterator[str]:
    name = pg_server.create_database("wbmt")
    yield pg_server.url(name)
    pg_server.drop_database(name)


def codes(n: int, seed: int, prefix: str = "PX") -> list[str]:
    rng = np.random.default_rng(seed)
    return [f"{prefix}{rng.integers(10, 99)}-{rng.integers(1000, 9999)}" for _ in range(n)]


def name_vs_values(key: str, other: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Source ``key`` holds part codes; in the target, ``key`` holds other codes of the same
    shape and the part codes sit under ``other``: the name points one way, the values the
    other (the shipped model follows the name)."""
    rng = np.random.default_rng(seed)
    n = 200
    parts = codes(n, seed)
    source = pd.DataFrame({"item_id": np.arange(n), key: parts, "qty": rng.integers(1, 9, n)})
    target = pd.DataFrame(
        {
            "item_id": np.arange(n),
            key: codes(n, seed + 100, "RG"),
            other: parts[::-1],
            "qty": rng.integers(1, 9, n),
        }
    )
    return source, target
