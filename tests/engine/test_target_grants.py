"""A target login that may not create what a job needs: named, with the grant to give.

The job failed with PostgreSQL's bare "permission denied for database shop", which says
neither which login nor what to grant.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import PermissionDeniedError


def test_a_target_login_without_create_is_told_what_to_grant(tmp_path: Path, target_url, store):
    source = tmp_path / "small.sqlite"
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.execute("INSERT INTO t VALUES (1, 'x')")
    role = f"wbweak{uuid.uuid4().hex[:8]}"
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'Weak-Pw-1'")
    weak = make_url(target_url).set(username=role, password="Weak-Pw-1")
    try:
        with pytest.raises(PermissionDeniedError) as caught:
            copy_database(
                f"sqlite:///{source}",
                weak.render_as_string(hide_password=False),
                CopyOptions(),
                store=store,
            )
        message = str(caught.value)
        assert f"The target login {role} may not create" in message
        assert f"TO {role}" in message and "Nothing was copied" in message
        assert "Weak-Pw-1" not in message
    finally:
        with psycopg.connect(target_url, autocommit=True) as conn:
            conn.execute(f"DROP ROLE {role}")


def test_a_read_only_target_is_named_as_such(tmp_path: Path, pg_server, store):
    """A job pointed at a standby (or a database with default_transaction_read_only) failed
    with 'cannot execute CREATE SCHEMA in a read-only transaction'."""
    from workbench.errors import ConfigurationError

    source = tmp_path / "small.sqlite"
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    name = pg_server.create_database("wbreadonly")
    with psycopg.connect(pg_server.url(name), autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {name} SET default_transaction_read_only = on")
    try:
        with pytest.raises(ConfigurationError, match=f"The target database {name} is read-only"):
            copy_database(f"sqlite:///{source}", pg_server.url(name), CopyOptions(), store=store)
    finally:
        pg_server.drop_database(name)


def test_a_roles_connection_limit_bounds_the_partitions_at_once(target_url):
    """ALTER ROLE ... CONNECTION LIMIT 3 (or a database's): the job counted only the server's
    max_connections and had partitions refused and retried."""
    from workbench.connectors import connect

    role = f"wblim{uuid.uuid4().hex[:8]}"
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'Lim-Pw-1' CONNECTION LIMIT 3")
    limited = make_url(target_url).set(username=role, password="Lim-Pw-1")
    try:
        target = connect(limited.render_as_string(hide_password=False))
        assert target.free_connections() == 2  # 3, less this one
        target.close()
    finally:
        with psycopg.connect(target_url, autocommit=True) as conn:
            conn.execute(f"DROP ROLE {role}")
