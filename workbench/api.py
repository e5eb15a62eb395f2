"""The workbench from Python in a few lines: ``import workbench as wb``.

    wb.copy("mysql://app@db/shop", "postgresql://wb@pg/shop")    # a whole database, validated
    wb.copy(src, tgt, dry_run=True)                              # the plan and DDL only

    shop = wb.project("shop")                  # the project in the metadata store (made if new)
    shop.connect("src", "mysql://app@db/shop", password=getpass())   # stored encrypted
    shop.connect("tgt", "postgresql://wb@pg/shop", role="target")
    shop.profile("src")                        # profiles, semantic types, PII, quality
    shop.match("src", "tgt")                   # column suggestions, saved as suggested
    shop.accept(min_confidence=0.8)            # every open suggestion from that confidence
    shop.migrate()                             # the accepted mappings, copied and validated

The same functions the command line and the widgets call, on the store ``open_store()``
opens (the embedded one unless ``WORKBENCH_DATABASE_URL`` is set; pass ``store=`` for
another). Results render as HTML in a notebook cell and as text in a terminal.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from workbench import render
from workbench.engine.dry_run import DryRun, dry_run
from workbench.engine.options import CopyOptions, JobResult, with_tuples
from workbench.errors import NotFoundError
from workbench.matching.mappings import SchemaMappingRecord
from workbench.profiling.model import TableProfile
from workbench.store.handle import Store, open_store


@functools.cache
def _default_store() -> Store:
    return open_store()


def _store(store: Store | None) -> Store:
    return store if store is not None else _default_store()


class Profiles(list[TableProfile]):
    """Table profiles; a notebook shows them as one table per source table."""

    def _repr_html_(self) -> str:
        return render.profiles_html([p.as_dict() for p in self])

    def __str__(self) -> str:
        return render.profiles_text([p.as_dict() for p in self])


class Mappings(list[SchemaMappingRecord]):
    """Table pairs with their column suggestions and decisions."""

    def _repr_html_(self) -> str:
        return render.mappings_html([m.to_dict() for m in self])

    def __str__(self) -> str:
        return render.mappings_text([m.to_dict() for m in self])


def copy(
    source: str,
    target: str,
    *,
    dry_run: bool = False,
    store: Store | None = None,
    client: Any = None,
    **options: Any,
) -> JobResult | DryRun:
    """Copy the database at ``source`` into the PostgreSQL ``target`` (validated).

    ``options`` are :class:`CopyOptions` fields (``tables=("orders*",)``,
    ``if_exists="replace"``, ``max_connections=8``, ...); ``client`` a ``distributed.Client``
    to run on. ``dry_run=True`` returns the plan and the exact DDL and changes nothing."""
    from workbench.engine.run import copy_database

    opts = CopyOptions(**_tuples(options))
    if dry_run:
        return _dry_run(source, target, opts)
    return copy_database(source, target, opts, store=_store(store), client=client)


_dry_run = dry_run


_tuples = with_tuples


def project(name: str, *, create: bool = True, store: Store | None = None) -> Project:
    """The project ``name`` (made, if new, unless ``create=False``)."""
    from workbench.store import projects

    handle = _store(store)
    try:
        projects.get_project(handle, name)
    except NotFoundError:
        if not create:
            raise
        projects.create_project(handle, name)
    return Project(name, handle)


class Project:
    """One project of the metadata store: its connections, profiles, mappings and jobs."""

    def __init__(self, name: str, store: Store) -> None:
        self.name = name
        self.store = store

    def __repr__(self) -> str:
        return f"Project({self.name!r})"

    def connect(
        self,
        name: str,
        url: str,
        *,
        role: str = "source",
        password: str | None = None,
        replace: bool = False,
    ) -> str:
        """Store a connection (its password encrypted); returns its URL with the password
        masked. ``replace=True`` updates a connection of that name."""
        from workbench.store import connections

        if replace:
            try:
                connections.get_connection(self.store, self.name, name)
            except NotFoundError:
                pass
            else:
                connections.remove_connection(self.store, self.name, name)
        record = connections.add_connection(
            self.store, self.name, name, url, password=password, role=role
        )
        return connections.masked_url(record)

    def connections(self) -> list[dict[str, Any]]:
        from workbench.store import connections

        return [
            {"name": c.name, "role": c.role, "url": connections.masked_url(c)}
            for c in connections.list_connections(self.store, self.name)
        ]

    def _url(self, connection: str) -> tuple[str, dict[str, Any]]:
        from workbench.store import connections

        record = connections.get_connection(self.store, self.name, connection)
        return connections.connection_url(self.store, record), dict(record.options or {})

    def profile(
        self, connection: str, tables: Sequence[str] | None = None, *, refresh: bool = False
    ) -> Profiles:
        """Profiles of ``tables`` (default: all) of a stored connection; unchanged tables'
        stored profiles are reused."""
        from workbench.profiling import profiles_for

        url, options = self._url(connection)
        found = profiles_for(
            self.store, url, list(tables) if tables else None, refresh=refresh,
            connect_options=options,
        )  # fmt: skip
        return Profiles(found)

    def match(self, source: str, target: str, *, sample_rows: int = 500) -> Mappings:
        """Suggest table and column pairs from ``source`` to ``target``; saved as suggested."""
        from workbench.matching.mappings import suggest_mappings

        saved = suggest_mappings(self.store, self.name, source, target, sample_rows=sample_rows)
        return Mappings(saved)

    def mappings(self) -> Mappings:
        from workbench.matching.mappings import list_mappings

        return Mappings(list_mappings(self.store, self.name))

    def accept(self, *, min_confidence: float = 0.0) -> Mappings:
        """Accept every open suggestion of every mapping at or above ``min_confidence``."""
        from workbench.matching import decisions
        from workbench.matching.mappings import list_mappings

        return Mappings(
            decisions.accept_all(self.store, self.name, m.id, min_confidence=min_confidence)
            for m in list_mappings(self.store, self.name)
        )

    def migrate(self, *, client: Any = None, **options: Any) -> JobResult:
        """Run the accepted mappings from the project's source to its target (validated)."""
        from workbench.engine.migrate import run_migration

        opts = CopyOptions(**{"if_exists": "append", **_tuples(options)})
        return run_migration(self.name, store=self.store, options=opts, client=client)

    def jobs(self, limit: int = 20) -> list[dict[str, Any]]:
        from workbench.store import jobs

        return [j.to_dict() for j in jobs.list_jobs(self.store, self.name, limit=limit)]
