"""Widget handlers without a browser: set values, call the handler, check state."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from tests.connectors import conftest as connector_fixtures
from tests.servers import free_port
from workbench.errors import AuthenticationError, CannotConnectError
from workbench.widgets.connect import ConnectWidget
from workbench.widgets.schema_browser import SchemaBrowser

mysql_user = connector_fixtures.mysql_user


def fill(widget: ConnectWidget, url: str) -> None:
    u = make_url(url)
    widget.kind.value = u.drivername
    widget.host.value = u.host or ""
    widget.port.value = u.port or 0
    widget.user.value = u.username or ""
    widget.password.value = u.password or ""
    widget.database.value = u.database or ""


def test_connect_widget_test_ok_and_save(mysql_server, mysql_user):
    saved = []
    widget = ConnectWidget(on_save=lambda *args: saved.append(args) or "id-1")
    user, password, db = mysql_user
    fill(widget, f"mysql://{user}:{password}@{mysql_server.host}:{mysql_server.port}/{db}")
    result = widget.on_test()
    assert result.ok and "Connected" in widget.status.value and widget.error is None
    assert password not in widget.status.value
    assert widget.on_save() is None and "Name the connection" in widget.status.value
    widget.name.value = "shop"
    assert widget.on_save() == "id-1"
    name, url, secret = saved[0]
    assert (name, secret) == ("shop", password) and password not in url


def test_connect_widget_shows_typed_errors(mysql_server, mysql_user):
    widget = ConnectWidget(connect_timeout=2)
    user, _, db = mysql_user
    fill(widget, f"mysql://{user}:wrong@{mysql_server.host}:{mysql_server.port}/{db}")
    assert widget.on_test() is None
    assert isinstance(widget.error, AuthenticationError)
    assert "AuthenticationError" in widget.status.value and "wrong" not in widget.status.value
    widget.port.value = free_port()
    widget.on_test()
    assert isinstance(widget.error, CannotConnectError)


def test_connect_widget_kind_switches_fields(chinook_sqlite):
    widget = ConnectWidget()
    widget.kind.value = "mysql"
    assert widget.port.value == 3306
    widget.kind.value = "sqlite"
    assert widget.host.disabled and widget.password.disabled
    widget.database.value = make_url(chinook_sqlite).database
    assert widget.on_test().server_version.startswith("SQLite")


def test_schema_browser_marks_keys_and_types(sakila_mysql):
    browser = SchemaBrowser.from_url(sakila_mysql)
    labels = [label for label, _ in browser.tables.options]
    assert any(label.startswith(browser.schema.tables[0].qualified_name) for label in labels)
    film_index = next(i for i, t in enumerate(browser.schema.tables) if t.name == "film")
    browser.tables.value = film_index  # the observer calls on_select
    assert browser.selected.name == "film"
    rows = {r["column"]: r for r in browser.rows}
    assert rows["film_id"]["keys"] == "PK, identity"
    assert rows["language_id"]["keys"] == "FK → language.language_id"
    assert (rows["rating"]["source type"], rows["rating"]["target type"]) == (
        "enum('G','PG','PG-13','R','NC-17')",
        "text",
    )
    assert rows["special_features"]["target type"] == "text[]"
    assert "rows" in labels[film_index] and "kB" in labels[film_index]
    assert "FK → language.language_id" in browser.columns.value
