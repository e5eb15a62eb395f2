"""Connections through the API: add/list/get/update/remove, bad input, and testing them live."""

from __future__ import annotations

import socket
import time

import pytest

from tests.servers import free_port
from tests.store.conftest import SCRAM_PASSWORD, scram_url
from workbench.cli.connections import check_stored
from workbench.errors import (
    AlreadyExistsError,
    AuthenticationError,
    CannotConnectError,
    InvalidInputError,
    NotFoundError,
)
from workbench.store import audit, connections, projects


@pytest.fixture
def shop(store):
    return projects.create_project(store, "shop")


def test_connection_lifecycle(store, shop):
    added = connections.add_connection(
        store, "shop", "src", "mysql://app:Pw-1@db1:3306/shop", options={"charset": "utf8mb4"}
    )
    assert (added.kind, added.role, added.url, added.has_secret) == (
        "mysql",
        "source",
        "mysql://app@db1:3306/shop",
        True,
    )
    assert added.options == {"charset": "utf8mb4"}
    assert connections.connection_url(store, added) == "mysql://app:Pw-1@db1:3306/shop"
    assert connections.get_connection(store, "shop", "src") == added
    assert connections.get_connection(store, None, added.id) == added
    assert connections.get_connection(store, shop.id, added.id) == added

    # a new URL without a password keeps the stored one; a password apart replaces it
    updated = connections.update_connection(
        store, "shop", "src", url="mysql://app@db2:3306/shop", name="source", role="source"
    )
    assert updated.url == "mysql://app@db2:3306/shop" and updated.name == "source"
    assert connections.connection_url(store, updated) == "mysql://app:Pw-1@db2:3306/shop"
    updated = connections.update_connection(store, "shop", "source", password="Pw-2")
    assert connections.connection_url(store, updated).endswith(":Pw-2@db2:3306/shop")
    cleared = connections.update_connection(store, "shop", "source", clear_password=True)
    assert not cleared.has_secret
    assert connections.connection_url(store, cleared) == "mysql://app@db2:3306/shop"

    connections.add_connection(store, "shop", "tgt", "postgresql://me@pg/db", role="target")
    assert [c.name for c in connections.list_connections(store, "shop")] == ["source", "tgt"]
    connections.remove_connection(store, "shop", "tgt")
    assert [c.name for c in connections.list_connections(store, "shop")] == ["source"]

    actions = [e.action for e in reversed(audit.list_events(store, "shop"))]
    assert actions == ["project.create", "connection.add"] + ["connection.update"] * 3 + [
        "connection.add",
        "connection.remove",
    ]
    secret_changes = [
        e.details["changes"].get("auth")
        for e in audit.list_events(store, "shop")
        if e.action == "connection.update"
    ]
    assert secret_changes == ["password cleared", "password replaced", None]


def test_password_given_apart_or_in_the_url(store, shop):
    a = connections.add_connection(store, "shop", "a", "postgresql://u@h/db", password="x1")
    assert connections.connection_url(store, a) == "postgresql://u:x1@h/db"
    b = connections.add_connection(store, "shop", "b", "postgresql://u:x1@h/db", password="x1")
    assert b.has_secret
    c = connections.add_connection(store, "shop", "c", "postgresql://u:@h/db")
    assert not c.has_secret  # an empty password is no password
    with pytest.raises(InvalidInputError, match="Two different passwords") as caught:
        connections.add_connection(store, "shop", "d", "postgresql://u:x1@h/db", password="x2")
    assert "x1" not in str(caught.value) and "x2" not in str(caught.value)


def test_duplicate_connection_name_is_refused(store, shop):
    connections.add_connection(store, "shop", "src", "sqlite:///a.db")
    with pytest.raises(AlreadyExistsError, match="'shop' already has a connection named 'src'"):
        connections.add_connection(store, "shop", "src", "sqlite:///b.db")
    connections.add_connection(store, "shop", "other", "sqlite:///b.db")
    with pytest.raises(AlreadyExistsError):
        connections.update_connection(store, "shop", "other", name="src")
    # the same name in another project is fine
    projects.create_project(store, "second")
    connections.add_connection(store, "second", "src", "sqlite:///a.db")


def test_missing_connections_and_projects(store, shop):
    with pytest.raises(NotFoundError, match=r"No connection 'nope' in project 'shop'.*list"):
        connections.get_connection(store, "shop", "nope")
    with pytest.raises(NotFoundError, match="No connection with id 999999"):
        connections.get_connection(store, None, 999999)
    with pytest.raises(NotFoundError, match="No project 'ghost'"):
        connections.add_connection(store, "ghost", "src", "sqlite:///a.db")
    with pytest.raises(NotFoundError):
        connections.remove_connection(store, "shop", "nope")
    with pytest.raises(NotFoundError):
        check_stored(store, "shop", "nope")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", "A connection URL is required"),
        ("not a url", "Cannot parse connection URL"),
        ("mysqll://app:Pw-9@db/shop", "Did you mean mysql"),
        ("oracle://app:Pw-9@db/shop", "Unknown connection kind 'oracle'"),
        ("mysql://app:Pw-9@[::1:3306/shop", r"IPv6 host in brackets \(\[::1\]:5432\)"),
        ("mysql://app:Pw-9@db:99999/shop", "a port is 1 to 65535"),
        ("mysql//app:Pw-9@db/shop", "Cannot parse connection URL 'mysql//app:\\*\\*\\*@db"),
        ("app:Pw-9@db/shop", "Cannot parse connection URL 'app:\\*\\*\\*@db"),
    ],
    ids=[
        "empty",
        "garbage",
        "typo",
        "unknown-kind",
        "open-bracket",
        "port-range",
        "no-scheme-colon",
        "no-scheme",
    ],
)
def test_bad_urls_are_refused_without_showing_the_password(store, shop, url, expected):
    with pytest.raises(InvalidInputError, match=expected) as caught:
        connections.add_connection(store, "shop", "src", url)
    assert "Pw-9" not in str(caught.value)
    assert connections.list_connections(store, "shop") == []


def test_bad_role_options_and_names(store, shop):
    with pytest.raises(InvalidInputError, match="'source' or 'target'"):
        connections.add_connection(store, "shop", "src", "sqlite:///a.db", role="both")
    with pytest.raises(InvalidInputError, match=r"without secrets"):
        connections.add_connection(
            store, "shop", "src", "sqlite:///a.db", options={"api_token": "tok-123"}
        )
    with pytest.raises(InvalidInputError, match="control characters"):
        connections.add_connection(store, "shop", "bad\x1bname", "sqlite:///a.db")
    with pytest.raises(InvalidInputError, match="limit is 200"):
        connections.add_connection(store, "shop", "n" * 201, "sqlite:///a.db")


def test_archived_project_refuses_new_connections(store, shop):
    projects.archive_project(store, "shop")
    with pytest.raises(InvalidInputError, match="archived; restore it"):
        connections.add_connection(store, "shop", "src", "sqlite:///a.db")


# --- testing connections against real servers ------------------------------------------------


def test_connection_test_succeeds_on_a_live_postgres(store, shop, pg_database):
    connections.add_connection(store, "shop", "tgt", pg_database, role="target")
    result = check_stored(store, "shop", "tgt")
    assert result.ok and result.server_version.startswith("PostgreSQL")


def test_unreachable_host_fails_fast_with_a_clear_message(store, shop):
    port = free_port()  # nothing listens there
    connections.add_connection(
        store, "shop", "gone", f"postgresql://app:Gone-Pw@127.0.0.1:{port}/x"
    )
    started = time.monotonic()
    with pytest.raises(CannotConnectError) as caught:
        check_stored(store, "shop", "gone")
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert message.startswith("Connection 'gone' (project 'shop'): Cannot connect")
    assert f"127.0.0.1:{port}" in message and "Gone-Pw" not in message


@pytest.mark.timeout(30)
def test_silent_server_times_out_instead_of_hanging(store_settings, shop, store):
    """A port that accepts TCP but never answers: the connect timeout bounds the wait."""
    from workbench.store import open_store

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # the kernel completes handshakes; nobody ever speaks
        port = listener.getsockname()[1]
        quick = open_store(store_settings.with_(connect_timeout=2.0))
        try:
            connections.add_connection(
                quick, "shop", "mute", f"postgresql://a:Mute-Pw@127.0.0.1:{port}/x"
            )
            started = time.monotonic()
            with pytest.raises(CannotConnectError) as caught:
                check_stored(quick, "shop", "mute")
            assert time.monotonic() - started < 10
        finally:
            quick.close()
    assert "Mute-Pw" not in str(caught.value)


def test_wrong_password_is_an_authentication_error(store, shop, scram_pg):
    connections.add_connection(store, "shop", "good", scram_url(scram_pg, SCRAM_PASSWORD))
    connections.add_connection(store, "shop", "bad", scram_url(scram_pg, "Wrong-Pw-123"))
    assert check_stored(store, "shop", "good").ok
    with pytest.raises(AuthenticationError) as caught:
        check_stored(store, "shop", "bad")
    message = str(caught.value)
    assert "Connection 'bad' (project 'shop')" in message and "password" in message
    assert "Wrong-Pw-123" not in message and SCRAM_PASSWORD not in message
