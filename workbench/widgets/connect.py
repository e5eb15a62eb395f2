"""The Connect widget: kind, host, port, database, user, masked password; Test and Save.

No logic of its own: Test calls the connector's ``test()``; Save calls the ``on_save``
hook with (name, URL without password, password) so the caller stores it (e.g.
``workbench.store.connections.add_connection``). The password is never shown or logged.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w
from sqlalchemy.engine import URL

from workbench.connectors import ConnectionTest, connect, mask_url
from workbench.errors import WorkbenchError
from workbench.widgets import static

KINDS: list[tuple[str, str]] = [
    ("PostgreSQL", "postgresql"),
    ("MySQL / MariaDB", "mysql"),
    ("SQLite file", "sqlite"),
    ("DuckDB file", "duckdb"),
    ("CSV folder", "csv"),
    ("Parquet folder", "parquet"),
]
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
FILE_KINDS = {"sqlite", "duckdb", "csv", "parquet"}

SaveHook = Callable[[str, str, str | None], Any]


class ConnectWidget:
    """State in the widgets below; :meth:`view` lays them out."""

    def __init__(self, on_save: SaveHook | None = None, connect_timeout: float = 10.0) -> None:
        self.on_save_hook = on_save
        self.connect_timeout = connect_timeout
        self.name = w.Text(description="Name", placeholder="e.g. shop-source")
        self.kind = w.Dropdown(options=KINDS, value="postgresql", description="Kind")
        self.host = w.Text(description="Host", value="localhost")
        self.port = w.IntText(description="Port", value=5432)
        self.database = w.Text(description="Database", placeholder="name, or file/folder path")
        self.user = w.Text(description="User")
        self.password = w.Password(description="Password")
        self.test_button = w.Button(description="Test", icon="plug")
        self.save_button = w.Button(description="Save", icon="save", button_style="primary")
        self.status = w.HTML()
        self.result: ConnectionTest | None = None
        self.error: WorkbenchError | None = None
        self.saved: Any = None
        self.kind.observe(lambda change: self.on_kind(change["new"]), names="value")
        self.test_button.on_click(lambda _b: self.on_test())
        self.save_button.on_click(lambda _b: self.on_save())

    # --- handlers --------------------------------------------------------------------
    def on_kind(self, kind: str) -> None:
        is_file = kind in FILE_KINDS
        for widget in (self.host, self.port, self.user, self.password):
            widget.disabled = is_file
        if kind in DEFAULT_PORTS:
            self.port.value = DEFAULT_PORTS[kind]

    def url(self, with_password: bool = False) -> str:
        kind = self.kind.value
        if kind in FILE_KINDS:
            path = self.database.value.strip()
            return f"{kind}:///{path}"  # an absolute path gives four slashes, as SQLAlchemy wants
        url = URL.create(
            kind,
            username=self.user.value or None,
            password=(self.password.value or None) if with_password else None,
            host=self.host.value or None,
            port=self.port.value or None,
            database=self.database.value or None,
        )
        return url.render_as_string(hide_password=False)

    def on_test(self) -> ConnectionTest | None:
        self.result, self.error = None, None
        try:
            connector = connect(self.url(with_password=True), connect_timeout=self.connect_timeout)
            try:
                self.result = connector.test()
            finally:
                connector.close()
        except WorkbenchError as exc:  # the widget's boundary: shown, kept, not swallowed
            self.error = exc
            self.status.value = (
                f"<b style='color:#b00'>{type(exc).__name__}</b>: {html.escape(exc.message)}"
            )
            return None
        r = self.result
        self.status.value = (
            f"<b style='color:#080'>Connected</b>: {html.escape(r.server_version)} in "
            f"{r.latency_ms:.0f} ms ({html.escape(r.url)})"
        )
        return r

    def on_save(self) -> Any:
        if self.on_save_hook is None:
            self.status.value = "No save hook: pass on_save=... to keep this connection"
            return None
        if not self.name.value.strip():
            self.status.value = "<b style='color:#b00'>Name the connection before saving</b>"
            return None
        try:
            self.saved = self.on_save_hook(
                self.name.value.strip(), self.url(), self.password.value or None
            )
        except WorkbenchError as exc:
            self.error = exc
            self.status.value = (
                f"<b style='color:#b00'>{type(exc).__name__}</b>: {html.escape(exc.message)}"
            )
            return None
        self.status.value = (
            f"Saved {html.escape(self.name.value)} ({html.escape(mask_url(self.url()))})"
        )
        return self.saved

    # --- view ------------------------------------------------------------------------
    def view(self) -> w.Widget:
        return w.VBox(
            [
                self.name,
                self.kind,
                w.HBox([self.host, self.port]),
                self.database,
                w.HBox([self.user, self.password]),
                w.HBox([self.test_button, self.save_button]),
                self.status,
            ]
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return static.mimebundle(self.view(), **kwargs)
