"""Every typed error of ``test()``, provoked for real (only "driver missing" is simulated)."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from tests.engine.helpers import mysql_tables
from tests.servers import free_port
from workbench.connectors import connect
from workbench.connectors.base import Partition
from workbench.errors import (
    AuthenticationError,
    CannotConnectError,
    CatalogPermissionError,
    DatabaseMissingError,
    DriverMissingError,
    SourceQueryError,
    TlsError,
    TransientError,
)


def _provoke(url: str, error: type[Exception], **kw) -> Exception:
    with pytest.raises(error) as info:
        connect(url, **kw).test()
    return info.value


# --- MariaDB -------------------------------------------------------------------------------


def test_mysql_closed_port_is_cannot_connect_fast():
    start = time.monotonic()
    err = _provoke(f"mysql://root:pw@127.0.0.1:{free_port()}/x", CannotConnectError)
    assert time.monotonic() - start < 5
    assert "***" in str(err) and ":pw@" not in str(err)  # masked URL, next step named
    assert "check host and port" in str(err)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and then never says a word (a hung server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


@pytest.mark.parametrize("kind", ["mysql", "postgresql"])
def test_silent_server_is_bounded_by_connect_timeout(silent_port, kind):
    start = time.monotonic()
    _provoke(f"{kind}://root@127.0.0.1:{silent_port}/x", CannotConnectError, connect_timeout=1.0)
    assert time.monotonic() - start < 5


def test_mysql_wrong_password_is_authentication_error(mysql_server, mysql_user):
    user, password, db = mysql_user
    base = f"mysql://{user}:{{}}@{mysql_server.host}:{mysql_server.port}/{db}"
    result = connect(base.format(password)).test()
    assert result.ok and "MariaDB" in result.server_version and result.latency_ms > 0
    assert password not in result.url
    err = _provoke(base.format("wrong-pw"), AuthenticationError)
    assert "wrong-pw" not in str(err) and "update the connection" in str(err)


def test_mysql_missing_database(mysql_server):
    err = _provoke(mysql_server.url("wb_no_such_db_x1"), DatabaseMissingError)
    assert "wb_no_such_db_x1" in str(err)


def test_mysql_permission_denied_on_database(mysql_server, mysql_user):
    user, password, _ = mysql_user
    other = mysql_server.create_database("wbperm")
    try:
        url = f"mysql://{user}:{password}@{mysql_server.host}:{mysql_server.port}/{other}"
        _provoke(url, CatalogPermissionError)
    finally:
        mysql_server.drop_database(other)


def test_mysql_query_the_server_refuses_is_not_a_connection_error(mysql_server):
    """A read whose SQL the server refuses (here a type-plan expression calling a function it
    lacks) is a terminal query error naming the server's own error, not "cannot connect",
    which would be retried and send the user to check host and port."""
    with mysql_tables(
        mysql_server,
        "wbqueryerr",
        "CREATE TABLE t (id int PRIMARY KEY, x int)",
        "INSERT INTO t VALUES (1, 2)",
    ) as (name, url):
        source = connect(url)
        (table,) = source.introspect().tables
        with pytest.raises(SourceQueryError) as info:
            list(
                source.read_partition(
                    table, Partition("t", name, 0), ["id", "x"], expressions={"x": "NO_SUCH_FN(x)"}
                )
            )
        assert not isinstance(info.value, TransientError)
        assert "1305" in str(info.value) and "NO_SUCH_FN" in str(info.value)
        assert "type-plan expressions" in str(info.value)


def test_mysql_tls_required_but_server_has_none(mysql_server):
    with mysql_server.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@have_ssl")
        have_ssl = cur.fetchone()[0]
    if have_ssl == "YES":
        pytest.xfail("this MariaDB offers TLS, so requiring it cannot fail")
    _provoke(mysql_server.url("mysql") + "?ssl_mode=REQUIRED", TlsError)


def test_mysql_driver_missing(monkeypatch, mysql_server):
    monkeypatch.setitem(sys.modules, "pymysql", None)
    err = _provoke(mysql_server.url("mysql"), DriverMissingError)
    assert "pip install pymysql" in str(err)


# --- PostgreSQL ----------------------------------------------------------------------------


def test_pg_closed_port_is_cannot_connect():
    err = _provoke(f"postgresql://u:pw@127.0.0.1:{free_port()}/x", CannotConnectError)
    assert ":pw@" not in str(err)


def test_pg_missing_database(pg_server):
    err = _provoke(pg_server.url("wb_no_such_db"), DatabaseMissingError)
    assert "wb_no_such_db" in str(err)


def test_pg_scram_wrong_password_is_authentication_error(scram_pg):
    result = connect(scram_pg).test()
    assert result.ok and result.server_version.startswith("PostgreSQL")
    _provoke(scram_pg.replace(":right-pw@", ":wrong-pw@"), AuthenticationError)


@pytest.fixture
def no_tls_port() -> Iterator[int]:
    """A TCP endpoint speaking just enough of the PostgreSQL protocol to refuse TLS: it answers
    the client's SSLRequest with 'N' (what a server without ssl=on does)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = srv.accept()
                with conn:
                    conn.recv(8)  # length + SSLRequest code 80877103
                    conn.sendall(b"N")
                    conn.recv(1024)

    threading.Thread(target=serve, daemon=True).start()
    yield srv.getsockname()[1]
    srv.close()


def test_pg_tls_required_but_refused_is_tls_error(no_tls_port):
    err = _provoke(f"postgresql://u:pw@127.0.0.1:{no_tls_port}/db?sslmode=require", TlsError)
    assert "sslmode" in str(err)


def test_pg_catalog_permission_denied(pg_database):
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE ROLE wb_nocat LOGIN")
        conn.execute("REVOKE SELECT ON pg_catalog.pg_constraint FROM PUBLIC")
    url = pg_database.replace("postgres:@", "wb_nocat:@", 1)
    try:
        assert connect(url).test().ok
        with pytest.raises(CatalogPermissionError):
            connect(url).introspect()
    finally:
        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute("GRANT SELECT ON pg_catalog.pg_constraint TO PUBLIC")
            conn.execute("DROP ROLE wb_nocat")


def test_pg_driver_missing(monkeypatch, pg_server):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    err = _provoke(pg_server.url("postgres"), DriverMissingError)
    assert "psycopg[binary]" in str(err)


# --- files ---------------------------------------------------------------------------------


def test_sqlite_missing_file(tmp_path):
    _provoke(f"sqlite:///{tmp_path}/nope.sqlite", DatabaseMissingError)


def test_sqlite_not_a_database(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    _provoke(f"sqlite:///{bad}", DatabaseMissingError)


def test_files_folder_missing(tmp_path):
    _provoke(f"csv://{tmp_path}/missing", DatabaseMissingError)
