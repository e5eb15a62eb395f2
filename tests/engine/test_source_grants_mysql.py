"""A MariaDB login that may not read some chosen tables: all named before anything is copied.

MariaDB lists every table a login holds any privilege on (INSERT alone will do), so such a
table was planned and its first partition's "SELECT command denied" failed the job after
other tables had been copied. And a column grant hides the columns the login may not read:
the table would land without them. Both are named, with the fix, before a row is written.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import PermissionDeniedError


def test_tables_and_columns_the_login_may_not_read_are_named_first(mysql_server, target_url, store):
    name = mysql_server.create_database("wbgrant")
    user = f"wbr{uuid.uuid4().hex[:8]}"
    with mysql_server.connect(name) as conn, conn.cursor() as cur:
        for table in ("readable", "insert_only", "some_columns"):
            cur.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY, v TEXT, secret TEXT)")
            cur.execute(f"INSERT INTO {table} VALUES (1, 'x', 's')")
        cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'Grant-Pw-1'")
        cur.execute(f"GRANT SELECT ON `{name}`.readable TO '{user}'@'%'")
        cur.execute(f"GRANT INSERT ON `{name}`.insert_only TO '{user}'@'%'")
        cur.execute(f"GRANT SELECT (id, v) ON `{name}`.some_columns TO '{user}'@'%'")
    url = f"mysql://{user}:Grant-Pw-1@{mysql_server.host}:{mysql_server.port}/{name}"
    try:
        with pytest.raises(PermissionDeniedError) as caught:
            copy_database(url, target_url, CopyOptions(workers=2), store=store)
        message = str(caught.value)
        assert "may not read 2 of the 3 chosen tables" in message
        assert f"{name}.insert_only" in message
        assert f"{name}.some_columns (only some of its columns)" in message
        assert f"{name}.readable" not in message and "Grant-Pw-1" not in message
        with psycopg.connect(target_url) as conn:  # nothing was copied
            assert conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchone() == (0,)
        result = copy_database(
            url,
            target_url,
            CopyOptions(workers=2, exclude=["insert_only", "some_columns"]),
            store=store,
        )
        assert result.status == "succeeded" and result.validated
    finally:
        with mysql_server.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP USER '{user}'@'%'")
        mysql_server.drop_database(name)


def test_an_accounts_own_connection_limit_bounds_the_partitions_at_once(mysql_server):
    """CREATE USER ... WITH MAX_USER_CONNECTIONS 2: the job counted only the server's
    max_connections, ran its partitions side by side and had them refused and retried."""
    from workbench.connectors import connect

    name = mysql_server.create_database("wblimit")
    user = f"wbl{uuid.uuid4().hex[:8]}"
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute(
            f"CREATE USER '{user}'@'%' IDENTIFIED BY 'Limit-Pw-1' WITH MAX_USER_CONNECTIONS 3"
        )
        cur.execute(f"GRANT SELECT ON `{name}`.* TO '{user}'@'%'")
    url = f"mysql://{user}:Limit-Pw-1@{mysql_server.host}:{mysql_server.port}/{name}"
    try:
        source = connect(url)
        assert source.free_connections() == 2  # 3, less this one
        source.close()
    finally:
        with mysql_server.connect() as conn, conn.cursor() as cur:
            cur.execute(f"DROP USER '{user}'@'%'")
        mysql_server.drop_database(name)
