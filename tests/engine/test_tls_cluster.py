"""A scheduler that speaks TLS is reached with Dask's own TLS settings (its config or the
DASK_DISTRIBUTED__COMM__TLS__* variables), and a missing client certificate is named."""

from __future__ import annotations

import dask
import pytest
from distributed import LocalCluster
from distributed.security import Security

from workbench.connectors.sealed import ENV_KEY, process_key
from workbench.engine.cluster import dask_client
from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import ConfigurationError

pytestmark = [pytest.mark.slow, pytest.mark.local_cluster]  # starts a TLS cluster


def test_a_tls_scheduler_without_a_client_certificate_is_named():
    with pytest.raises(ConfigurationError) as caught, dask_client("tls://127.0.0.1:1"):
        pass
    assert "speaks TLS" in str(caught.value)
    assert "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT" in str(caught.value)


def test_a_copy_runs_on_a_tls_cluster_through_its_address(chinook_sqlite, target_url, store):
    security = Security.temporary()  # a CA and certificates made for this test (PEM text)
    with LocalCluster(
        n_workers=1, threads_per_worker=2, protocol="tls", host="127.0.0.1",
        dashboard_address="127.0.0.1:0", security=security, env={ENV_KEY: process_key().decode()},
    ) as cluster:  # fmt: skip
        address = cluster.scheduler_address
        assert address.startswith("tls://")
        settings = {
            "distributed.comm.tls.ca-file": security.tls_ca_file,
            "distributed.comm.tls.client.cert": security.tls_client_cert,
            "distributed.comm.tls.client.key": security.tls_client_key,
            "distributed.comm.require-encryption": True,
        }
        with dask.config.set(settings), dask_client(address) as client:
            result = copy_database(
                chinook_sqlite, target_url, CopyOptions(), store=store, client=client
            )
            ran = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes))
    assert result.status == "succeeded" and result.validated and result.rows_copied > 15_000
    assert "copy-job" in ran  # the partitions ran on the TLS cluster
