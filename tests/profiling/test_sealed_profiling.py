"""Profiling on Dask keeps a source's password out of the scheduler, as copies do."""

from __future__ import annotations

from tests.conftest import SOURCE_PASSWORD
from workbench.connectors import connect
from workbench.engine.cluster import dask_client
from workbench.profiling.parallel import profile_tables


def test_profiling_tasks_carry_the_url_sealed(secret_source, shared_dask, submitted):
    held = submitted  # what the scheduler is given
    connector = connect(secret_source)
    try:
        table = connector.introspect().tables[0]
    finally:
        connector.close()
    with dask_client(shared_dask) as client:
        profiles = profile_tables(secret_source, [table, table], client=client)
    assert [p.rows for p in profiles] == [500, 500]
    assert {c.name for c in profiles[0].columns} == {"id", "label"}
    assert len(held) == 2 and all(SOURCE_PASSWORD.encode() not in h for h in held)
    assert all(b"SealedUrl" in h for h in held)
