"""Bundled sample data for the quickstart and demos, and a target database to copy it into.

``chinook.sqlite`` is the Chinook database by Luis Rocha (MIT licence, see
``LICENSE-chinook.txt``): 11 tables, ~15k rows of a digital media store.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

from workbench.config import Settings, load_settings, private_dir
from workbench.errors import ConfigurationError, NotFoundError
from workbench.store import Store, connections, projects

SAMPLES = Path(__file__).resolve().parent
CHINOOK = SAMPLES / "chinook.sqlite"


def chinook_url(settings: Settings | None = None) -> str:
    """A ``sqlite:///`` URL of a private copy of Chinook under the data dir (the packaged file
    stays untouched)."""
    settings = settings or load_settings()
    target = settings.data_dir.expanduser() / "samples" / "chinook.sqlite"
    if not target.exists():
        private_dir(settings.data_dir)  # created here first, it is still owner-only
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CHINOOK, target)
    return f"sqlite:///{target}"


def store_server_database(store: Store, name: str, *, fresh: bool = False) -> str:
    """The URL of database ``name`` on the store's own PostgreSQL server (created if missing).

    With the embedded store this is the quickstart's target: no second server to set up.
    ``fresh`` drops the database first (for repeatable demos). The URL may carry the store's
    password: pass it to the engine, never print it (use ``mask_url``).
    """
    base = store.admin_url
    if base is None:
        raise ConfigurationError(
            "Creating a database on the store's server needs the store owner's login; set "
            "WORKBENCH_DATABASE_ADMIN_URL, or give the target database's URL yourself"
        )
    url = base.set(drivername="postgresql", database=name)
    server = url.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(server, autocommit=True, connect_timeout=10) as conn:
        if fresh:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url.render_as_string(hide_password=False)


def ensure_project(store: Store, project: str, description: str = "") -> None:
    """Create ``project`` unless it exists (notebooks re-run)."""

    try:
        projects.get_project(store, project)
    except NotFoundError:
        projects.create_project(store, project, description or None)


def ensure_connection(store: Store, project: str, name: str, url: str, role: str) -> str:
    """Save ``url`` as connection ``name`` of ``project`` unless one by that name exists;
    return its URL as stored (password masked)."""

    ensure_project(store, project)
    try:
        return connections.get_connection(store, project, name).url
    except NotFoundError:
        return connections.add_connection(store, project, name, url, role=role).url


def connection_url(
    store: Store,
    project: str,
    name: str,
    role: str,
    default: Callable[[], str] | None = None,
) -> str:
    """The URL (with its password, for connecting only: never print it) of connection
    ``name`` of ``project``; when it does not exist, ``default()`` makes one and it is saved
    under that name. Notebooks take project and connection names, never URLs: a parameter
    cell, its output and IPython's history then hold no password."""

    ensure_project(store, project)
    try:
        record = connections.get_connection(store, project, name)
    except NotFoundError:
        if default is None:
            raise NotFoundError(
                f"Project {project!r} has no connection {name!r}; add it with `workbench "
                f"connection add {project} {name} URL --prompt-password` (or the connect "
                "widget), then run again",
                connection=name,
            ) from None
        record = connections.add_connection(store, project, name, default(), role=role)
    return connections.connection_url(store, record)


def quickstart(
    store: Store, project: str = "quickstart", target_database: str = "chinook_quickstart"
) -> tuple[str, str]:
    """The quickstart's (source, target) URLs: bundled Chinook and a fresh database on the
    store's server, both saved as connections ``chinook`` and ``warehouse`` of ``project``."""
    source = chinook_url(store.settings)
    target = store_server_database(store, target_database, fresh=True)
    ensure_project(store, project, "Quickstart: Chinook (SQLite) into PostgreSQL")
    ensure_connection(store, project, "chinook", source, "source")
    ensure_connection(store, project, "warehouse", target, "target")
    # the quickstart's own connections name what it uses this run (a guided notebook may
    # have saved "warehouse" for another database of the same server)
    for name, url in (("chinook", source), ("warehouse", target)):
        stored = connections.get_connection(store, project, name)
        if connections.connection_url(store, stored) != url:
            connections.update_connection(store, project, name, url=url)
    return source, target
