"""Prometheus text over HTTP from a store holding a real job."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.servers import free_port
from workbench.monitoring import metrics


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_per_job_and_table_over_http(mon_store, finished_job):
    port = free_port()
    server, _thread = metrics.serve(mon_store, port=port)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            assert resp.status == 200
            text = resp.read().decode()
    finally:
        server.shutdown()
    got = samples(text)
    job = (
        ("job_id", str(finished_job.job_id)),
        ("kind", "copy"),
        ("project", "mon"),
        ("status", "succeeded"),
    )
    assert got[("workbench_job_rows_read", job)] == 1050
    assert got[("workbench_job_rows_quarantined", job)] == 10
    assert got[("workbench_job_errors", job)] == 0
    assert got[("workbench_job_seconds", job)] > 0
    assert got[("workbench_job_bytes", job)] > 0
    table = (("job_id", str(finished_job.job_id)), ("table", "item"))
    assert got[("workbench_table_rows_written", table)] == 990
    assert got[("workbench_table_rows_quarantined", table)] == 10
    assert metrics.render(mon_store).startswith("# HELP workbench_job_rows_read")
