"""Many tables profiled in parallel: one Dask task per table.

Each task opens its own connector from the URL (connections never travel to workers) and
returns the picklable :class:`TableProfile`. A URL with a password travels sealed
(``connectors.sealed``): the scheduler holds the task's arguments where any of its clients
can read them. The caller passes the ``distributed.Client``
(the CLI and widgets get one from ``workbench.engine.cluster.dask_client``); without one the
tables are profiled one after another in this process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workbench.connectors import connect
from workbench.connectors.sealed import SealedUrl, process_key, reveal, seal, shared_key
from workbench.profiling.model import TableProfile
from workbench.profiling.profile import ProfileOptions, profile_table
from workbench.schema.model import Table


def profile_one(
    url: str | SealedUrl,
    table: Table,
    options: ProfileOptions,
    connect_options: dict | None = None,
) -> TableProfile:
    """The Dask task: connect, profile one table, close."""

    connector = connect(reveal(url), options=connect_options)
    try:
        return profile_table(connector, table, options)
    finally:
        connector.close()


def profile_tables(
    url: str,
    tables: Sequence[Table],
    options: ProfileOptions | None = None,
    *,
    client: Any = None,
    connect_options: dict | None = None,
) -> list[TableProfile]:
    """Profiles of ``tables`` in their order; on Dask when ``client`` is given."""
    options = options or ProfileOptions()
    if client is None or len(tables) < 2:
        return [profile_one(url, t, options, connect_options) for t in tables]
    # the team's key for a cluster others run; else this process's own, which the local
    # clusters it starts hand to their workers (a foreign worker says which key it lacks)
    sealed = seal(url, shared_key() or process_key())
    futures = [
        client.submit(profile_one, sealed, t, options, connect_options, pure=False) for t in tables
    ]
    return client.gather(futures)
