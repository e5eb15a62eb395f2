"""Profiles kept in the metadata store and reused while the table is unchanged.

Before profiling, the table's fingerprint (columns, exact row count, content signal: see
:mod:`workbench.profiling.fingerprint`) is computed; a stored profile with the same
fingerprint and the same options is returned as is (``reused=True``). Otherwise, or with
``refresh=True``, the table is profiled again and the new profile stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workbench.connectors import connect
from workbench.connectors.base import Connector
from workbench.errors import NotFoundError
from workbench.profiling import fingerprint as fp
from workbench.profiling.model import TableProfile
from workbench.profiling.parallel import profile_tables
from workbench.profiling.profile import ProfileOptions, find_table, profile_table
from workbench.schema.model import Table
from workbench.store import profiles as stored_profiles
from workbench.store.handle import Store
from workbench.urls import mask_url


def current_fingerprint(connector: Connector, table: Table, options: ProfileOptions) -> str:
    rows = connector.count(table)
    signal = fp.content_signal(
        connector.run, table, connector.dialect, rows, options.fingerprint_exact_rows
    )
    return fp.fingerprint(table, rows, signal)


def cached_profile(
    store: Store, connector: Connector, table: Table, options: ProfileOptions
) -> TableProfile | None:
    """The stored profile if the table's fingerprint and the options are unchanged."""
    found = stored_profiles.latest_profile(store, mask_url(connector.url), table.schema, table.name)
    if found is None or found.options != options.to_dict():
        return None
    if found.fingerprint != current_fingerprint(connector, table, options):
        return None
    profile = TableProfile.from_dict(found.profile)
    profile.reused = True
    return profile


def save(store: Store, connector: Connector, profile: TableProfile, options: ProfileOptions) -> int:
    data = profile.as_dict()
    data["reused"] = False
    return stored_profiles.save_profile(
        store,
        mask_url(connector.url),
        profile.schema,
        profile.table,
        profile.fingerprint,
        options.to_dict(),
        data,
    )


def profile_stored(
    store: Store,
    connector: Connector,
    table: Table | str,
    options: ProfileOptions | None = None,
    *,
    refresh: bool = False,
) -> TableProfile:
    """Profile ``table`` through the store: reuse while unchanged, else profile and save."""
    options = options or ProfileOptions()
    if isinstance(table, str):
        table = find_table(connector, table)
    if not refresh:
        cached = cached_profile(store, connector, table, options)
        if cached is not None:
            return cached
    profile = profile_table(connector, table, options)
    save(store, connector, profile, options)
    return profile


def profiles_for(
    store: Store,
    url: str,
    tables: Sequence[str] | None = None,
    options: ProfileOptions | None = None,
    *,
    refresh: bool = False,
    client: Any = None,
    connect_options: dict | None = None,
) -> list[TableProfile]:
    """Profiles of many tables of one connection: reused from the store where unchanged,
    the others profiled (in parallel on Dask when ``client`` is given) and stored."""

    options = options or ProfileOptions()
    connector = connect(
        url, connect_timeout=store.settings.connect_timeout, options=connect_options
    )
    try:
        schema = connector.introspect(
            tables=[t.rpartition(".")[2] for t in tables] if tables else None
        )
        chosen = [
            t
            for t in schema.tables
            if t.kind == "table" and (not tables or t.name in tables or t.qualified_name in tables)
        ]
        if tables:
            missing = set(tables) - {t.name for t in chosen} - {t.qualified_name for t in chosen}
            if missing:
                raise NotFoundError(
                    f"No table {sorted(missing)} in {mask_url(url)}; list tables with "
                    "`workbench schema show`"
                )
        results: dict[str, TableProfile] = {}
        todo: list[Table] = []
        for table in chosen:
            cached = None if refresh else cached_profile(store, connector, table, options)
            if cached is not None:
                results[table.qualified_name] = cached
            else:
                todo.append(table)
        for profile in profile_tables(
            url, todo, options, client=client, connect_options=connect_options
        ):
            save(store, connector, profile, options)
            results[profile.qualified_name] = profile
        return [results[t.qualified_name] for t in chosen]
    finally:
        connector.close()
