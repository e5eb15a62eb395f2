"""Is this job slow or error-prone compared with its project's history?

The rule (robust, no training, explainable on a dashboard): for each metric compare the job
with the project's other finished jobs of the same kind using the modified z-score of
Iglewicz and Hoaglin, ``z = 0.6745 * (x - median) / MAD``, where MAD is the median absolute
deviation of the history. A job is flagged when ``|z| > 3.5`` in the bad direction:

- ``rows_per_second``: throughput lower than usual (a running job is judged on its rate so far);
- ``error_rate``: quarantined rows per row read, higher than usual;
- ``retries``: partition retries, higher than usual.

Only comparable jobs are compared: of the same project and kind, and of a similar size (row
estimates within a factor of ``SIZE_FACTOR``), so a small copy is not "slow" beside a project's
big ones (whose fixed costs weigh less). A running job is judged only once it has run
``MIN_RUNNING_SECONDS`` and read ``MIN_RUNNING_PROGRESS`` of its rows: its first seconds (a
cluster starting, the first partitions' queries) say nothing about its rate.

The median and MAD ignore a few outliers in the history itself, unlike mean and standard
deviation. At least ``MIN_HISTORY`` earlier jobs are needed; when the history does not vary
(MAD = 0), a floor stands in for the MAD (10 % of the median, at least 1 row/s, 1 percentage
point of error rate, 1 retry) so that an identical history does not flag every tiny difference.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.monitoring import views
from workbench.store import Store

THRESHOLD = 3.5
MIN_HISTORY = 5
SIZE_FACTOR = 4.0
MIN_RUNNING_SECONDS = 60.0
MIN_RUNNING_PROGRESS = 0.2
# metric -> (+1 when high is bad, -1 when low is bad; smallest spread taken as the MAD)
METRICS: dict[str, tuple[int, float]] = {
    "rows_per_second": (-1, 1.0),
    "error_rate": (+1, 0.01),
    "retries": (+1, 1.0),
}


@dataclass(frozen=True)
class Anomaly:
    job_id: int
    metric: str
    value: float
    median: float
    score: float
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def robust_z(
    value: float, history: np.ndarray | list[float], floor: float = 1.0
) -> tuple[float, float]:
    """(modified z-score of ``value`` against ``history``, the history's median)."""
    values = np.asarray(history, dtype="float64")
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    if mad == 0:
        mad = max(abs(median) * 0.1, floor)
    return 0.6745 * (value - median) / mad, median


def _metrics(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    read = out["rows_read"].where(out["rows_read"] > 0)
    out["error_rate"] = (out["rows_quarantined"] / read).fillna(0.0)
    return out


def check_job(job: pd.Series, history: pd.DataFrame) -> list[Anomaly]:
    """Anomalies of one job row (see ``views.job_row``) against history rows."""
    if len(history) < MIN_HISTORY:
        return []
    found = []
    for metric, (bad, floor) in METRICS.items():
        value = float(job[metric])
        if metric == "rows_per_second" and job["rows_read"] == 0:
            continue  # nothing read yet: no rate to judge
        score, median = robust_z(value, history[metric].to_numpy(), floor)
        if score * bad > THRESHOLD:
            word = "low" if bad < 0 else "high"
            found.append(
                Anomaly(
                    int(job["job_id"]),
                    metric,
                    round(value, 4),
                    round(median, 4),
                    round(score, 2),
                    f"job {int(job['job_id'])}: {metric} {value:,.4g} is unusually {word}"
                    f" (project median {median:,.4g}, robust z {score:+.1f})",
                )
            )
    return found


def check_frame(frame: pd.DataFrame) -> list[Anomaly]:
    """Anomalies of every job in a history frame, each against the project's earlier jobs.

    History = jobs of the same project and kind that succeeded before it (by job id).
    """
    if frame.empty:
        return []
    data = _metrics(frame)
    done = data[data["status"] == "succeeded"]
    found: list[Anomaly] = []
    for _, job in data.iterrows():
        if job["status"] not in ("running", "succeeded", "failed", "cancelled"):
            continue
        if job["status"] == "running" and (
            job["seconds"] < MIN_RUNNING_SECONDS or job["progress"] < MIN_RUNNING_PROGRESS
        ):
            continue  # too early to judge its rate
        history = done[
            (done["project"] == job["project"])
            & (done["kind"] == job["kind"])
            & (done["job_id"] < job["job_id"])
        ]
        found.extend(check_job(job, comparable(job, history)))
    return found


def comparable(job: pd.Series, history: pd.DataFrame) -> pd.DataFrame:
    """The history's jobs of a similar size to ``job`` (all of them when sizes are unknown)."""
    size = float(job.get("rows_estimate") or 0)
    if not size or "rows_estimate" not in history:
        return history
    sizes = history["rows_estimate"].astype("float64")
    return history[(sizes >= size / SIZE_FACTOR) & (sizes <= size * SIZE_FACTOR)]


def check_project(
    store: Store, project: str | int | None = None, limit: int = 200
) -> list[Anomaly]:
    """Anomalies among the newest ``limit`` jobs (of one project, or all)."""
    return check_frame(views.job_history(store, project, limit))


def anomaly_frame(anomalies: list[Anomaly]) -> pd.DataFrame:
    return pd.DataFrame(
        [a.to_dict() for a in anomalies],
        columns=["job_id", "metric", "value", "median", "score", "message"],
    )
