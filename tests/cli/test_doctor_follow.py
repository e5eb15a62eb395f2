"""`workbench doctor --project P --follow`: can each source's changes be followed after a copy?

Private servers (started here, since their settings are changed): a MariaDB without a binary
log and a login that may only read, then one with a row-based binlog and a login allowed to
read it, whose binlog_format is then switched to STATEMENT; and the test PostgreSQL, whose
wal_level is not 'logical'. Each missing setting or privilege is named with what to set."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import MySQLServer, start_private_mariadb

pytestmark = pytest.mark.slow  # two private MariaDB servers

PASSWORD = "Follow-Pw-71x"


def _server(base: Path, *args: str) -> Iterator[MySQLServer]:
    (base / "tmp").mkdir(parents=True, exist_ok=True)  # its temporary files apart from /tmp's
    server = start_private_mariadb(base, extra_args=[*args, f"--tmpdir={base / 'tmp'}"])
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def plain_mariadb(tmp_path) -> Iterator[MySQLServer]:
    yield from _server(Path("/tmp") / f"wbfollow-a-{os.getpid()}")


@pytest.fixture
def binlog_mariadb(tmp_path) -> Iterator[MySQLServer]:
    yield from _server(
        Path("/tmp") / f"wbfollow-b-{os.getpid()}",
        "--log-bin=binlog", "--server-id=7", "--binlog-format=ROW", "--binlog-row-image=FULL",
        "--binlog-row-metadata=FULL",
        "--binlog-expire-logs-seconds=1209600",
    )  # fmt: skip


def _login(server: MySQLServer, *privileges: str) -> str:
    """A database ``shop`` and a login ``fol`` with a password and ``privileges``; its URL."""
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE shop")
        cur.execute("CREATE TABLE shop.items (id int PRIMARY KEY, name varchar(20))")
        cur.execute(f"CREATE USER 'fol'@'%' IDENTIFIED BY '{PASSWORD}'")
        cur.execute("GRANT SELECT ON shop.* TO 'fol'@'%'")
        for privilege in privileges:
            cur.execute(f"GRANT {privilege} ON *.* TO 'fol'@'%'")
    return f"mysql://fol:{PASSWORD}@{server.host}:{server.port}/shop"


def _follow(run, project: str, url: str) -> tuple[int, dict]:
    run("project", "create", project)
    run("connection", "add", project, "src", url)
    done = run("doctor", "--project", project, "--follow", "--json")
    assert PASSWORD not in done.stdout
    checks = {c["check"]: c for c in json.loads(done.stdout)["checks"]}
    return done.exit_code, checks


def test_a_server_without_a_binlog_and_a_read_only_login_are_named(run, plain_mariadb):
    code, checks = _follow(run, "plain", _login(plain_mariadb))
    follow = checks["follow src"]
    assert code == 1 and not follow["ok"] and checks["connection src"]["ok"]
    detail = follow["detail"]
    for said in ("log_bin is OFF", "set it to ON (start the server with --log-bin)",
                 "privilege REPLICATION SLAVE is not granted", "GRANT REPLICATION SLAVE",
                 "privilege REPLICATION CLIENT is not granted"):  # fmt: skip
        assert said in detail, detail


def test_a_row_binlog_and_a_replication_login_are_ready_until_the_format_changes(
    run, binlog_mariadb
):
    url = _login(binlog_mariadb, "REPLICATION SLAVE", "BINLOG MONITOR")
    code, checks = _follow(run, "ready", url)
    assert code == 0, checks
    assert checks["follow src"]["detail"].startswith("ready to follow")

    with binlog_mariadb.connect() as conn, conn.cursor() as cur:
        cur.execute("SET GLOBAL binlog_format = 'STATEMENT'")
    done = run("doctor", "--project", "ready", "--follow", "--json")
    follow = {c["check"]: c for c in json.loads(done.stdout)["checks"]}["follow src"]
    assert done.exit_code == 1 and "binlog_format is STATEMENT" in follow["detail"]
    assert "set it to ROW" in follow["detail"] and "log_bin" not in follow["detail"]


def test_a_postgresql_source_needs_logical_wal(run, pg_server):
    url = pg_server.url("postgres")
    code, checks = _follow(run, "pgsrc", url)
    follow = checks["follow src"]
    assert code == 1 and "wal_level is replica" in follow["detail"], follow
    assert "set it to logical" in follow["detail"]
    assert "REPLICATION" not in follow["detail"]  # the test login is a superuser


def test_a_file_source_has_no_change_stream(run, chinook_sqlite):
    code, checks = _follow(run, "file", chinook_sqlite)
    assert code == 1 and "has no change stream" in checks["follow src"]["detail"]
