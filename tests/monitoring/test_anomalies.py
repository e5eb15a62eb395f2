"""The median/MAD rule, as tables of history and verdicts, and over jobs in a real store."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.monitoring import anomalies, views
from workbench.store import jobs
from workbench.store.projects import create_project


def frame(rates, quarantined=None, retries=None, status="succeeded") -> pd.DataFrame:
    n = len(rates)
    return pd.DataFrame(
        {
            "job_id": range(1, n + 1),
            "project": "p",
            "kind": "copy",
            "status": status if isinstance(status, list) else [status] * n,
            "rows_read": [10_000] * n,
            "rows_quarantined": quarantined or [0] * n,
            "retries": retries or [0] * n,
            "rows_per_second": rates,
        }
    )


@pytest.mark.parametrize(
    ("rates", "quarantined", "retries", "flagged"),
    [
        ([1000, 1050, 980, 1020, 990, 1010], None, None, []),  # steady: nothing
        ([1000, 1050, 980, 1020, 990, 200], None, None, [(6, "rows_per_second")]),  # slow
        ([1000, 1050, 980, 1020, 990, 5000], None, None, []),  # faster is never bad
        ([1000, 1050, 980, 200], None, None, []),  # too little history (3 < 5)
        ([1000] * 6, [0, 0, 0, 0, 0, 900], None, [(6, "error_rate")]),  # error burst
        ([1000] * 6, None, [0, 1, 0, 0, 1, 9], [(6, "retries")]),
        ([1000] * 5 + [950], None, None, []),  # identical history: MAD floor, 5 % is fine
        # an outlier early in the history is judged on too little history, and does not
        # make later ordinary jobs look odd
        ([1000, 1050, 100, 1020, 990, 1010, 1000], None, None, []),
    ],
)
def test_rule(rates, quarantined, retries, flagged):
    found = anomalies.check_frame(frame(rates, quarantined, retries))
    assert [(a.job_id, a.metric) for a in found] == flagged


def test_robust_z_ignores_an_outlier_in_history():
    z, median = anomalies.robust_z(500, [1000, 1010, 990, 1005, 995, 10])
    assert median == pytest.approx(997.5) and z < -3.5


def test_a_small_job_is_not_compared_with_big_ones():
    history = frame([100_000, 105_000, 98_000, 102_000, 99_000, 2_000])
    history["rows_estimate"] = [10_000_000] * 5 + [20_000]  # the last is a small copy
    assert anomalies.check_frame(history) == []
    history.loc[5, "rows_estimate"] = 8_000_000  # of the same size it would be slow
    assert [a.job_id for a in anomalies.check_frame(history)] == [6]


def test_a_running_job_is_judged_once_it_has_run_long_enough():
    history = frame([1000, 1050, 980, 1020, 990, 100], status=["succeeded"] * 5 + ["running"])
    history["seconds"] = [10.0] * 5 + [17.0]
    history["progress"] = [1.0] * 5 + [0.05]
    assert anomalies.check_frame(history) == []  # 17 s in: too early to say
    history.loc[5, ["seconds", "progress"]] = [90.0, 0.3]
    assert [a.job_id for a in anomalies.check_frame(history)] == [6]


def test_running_job_flagged_in_a_real_store(store):
    from sqlalchemy import text

    project = create_project(store, "hist")
    for rate in (1000, 1100, 950, 1050, 1000):
        job_id = jobs.create_job(store, project.id, "copy", {})
        jobs.set_job_status(store, job_id, "running")
        jobs.update_job_statistics(
            store, job_id, {"rows_read": rate * 10, "rows_estimate": rate * 10, "seconds": 10}
        )
        jobs.set_job_status(store, job_id, "succeeded")
    slow = jobs.create_job(store, project.id, "copy", {})
    jobs.set_job_status(store, slow, "running")
    jobs.update_job_statistics(store, slow, {"rows_read": 3_000, "rows_estimate": 10_000})
    assert anomalies.check_project(store, "hist") == []  # it has just started
    with store.session() as session:  # two minutes later, still at 3,000 rows: 25 rows/s
        session.execute(
            text(
                "UPDATE migration_jobs SET started_at = now() - interval '2 minutes',"
                " heartbeat_at = now() WHERE id = :id"
            ),
            {"id": slow},
        )
    found = anomalies.check_project(store, "hist")
    assert [(a.job_id, a.metric) for a in found] == [(slow, "rows_per_second")]
    assert "unusually low" in found[0].message
    assert views.live_jobs(store, "hist")["job_id"].tolist() == [slow]
    eta = views.live_jobs(store, "hist")["eta_seconds"].iloc[0]
    assert eta == pytest.approx(7_000 / (3_000 / 120), rel=0.05)  # the rows left at its rate
