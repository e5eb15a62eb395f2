"""Monitoring views over a real job: history, per-table progress, throughput, logs, quarantine."""

from __future__ import annotations

import pandas as pd

from workbench.monitoring import views
from workbench.store import jobs


def test_job_history_and_tables(mon_store, finished_job):
    history = views.job_history(mon_store, "mon")
    row = history[history["job_id"] == finished_job.job_id].iloc[0]
    assert row["status"] == "succeeded" and row["project"] == "mon" and row["progress"] == 1.0
    assert row["rows_read"] == 1050 and row["rows_quarantined"] == 10
    assert row["rows_copied"] == 1040 and row["seconds"] > 0 and row["rows_per_second"] > 0
    assert views.live_jobs(mon_store, "mon").empty
    assert pd.isna(row["seconds_behind"])  # not followed: no follower's lag to show
    job = jobs.get_job(mon_store, finished_job.job_id)
    tables = views.table_progress(job).set_index("table")
    assert (
        tables.loc["item", "rows_written"] == 990 and tables.loc["item", "rows_quarantined"] == 10
    )
    assert (tables["progress"] == 1.0).all()
    assert tables["eta_seconds"].isna().all()  # nothing left to wait for


def test_throughput_logs_and_quarantine(mon_store, finished_job):
    job = jobs.get_job(mon_store, finished_job.job_id)
    rate = views.throughput(job)
    assert list(rate.columns) == ["seconds", "rows_read", "rows_per_second"]
    assert rate["rows_read"].iloc[-1] == 1050 and rate["seconds"].is_monotonic_increasing
    logs = views.recent_logs(mon_store, job.id)
    assert logs["message"].str.contains("quarantined").any()
    assert logs["message"].iloc[0].startswith("Copied")  # newest first
    bad = views.quarantined_rows(mon_store, job)
    assert len(bad) == 10 and set(bad["table"]) == {"item"}
    assert bad["error"].str.len().min() > 0 and bad["row"].str.contains("bad").all()
    by_class = views.quarantine_by_class(mon_store, job)
    assert by_class["rows"].sum() == 10 and set(by_class["table"]) == {"item"}
    assert list(by_class.columns) == ["table", "column", "error_kind", "rows"]


def test_a_followed_jobs_lag_is_in_its_row(mon_store, finished_job):
    # what engine.follow writes while it applies changes (see tests/engine/test_follow.py)
    follow = {"seconds_behind": 1.5, "changes_per_second": 812.0, "changes_total": 4200}
    jobs.update_job_statistics(mon_store, finished_job.job_id, {"follow": follow})
    row = views.job_row(jobs.get_job(mon_store, finished_job.job_id))
    assert (row["seconds_behind"], row["changes_per_second"], row["changes_total"]) == (
        1.5, 812.0, 4200,
    )  # fmt: skip
