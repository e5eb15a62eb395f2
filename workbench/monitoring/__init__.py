"""What the dashboards draw, read from the metadata store (and a job's quarantine table).

Parts:
- ``views``: jobs, per-table progress, rows/s over time, logs and quarantined rows as
  pandas DataFrames (plain functions taking the open store);
- ``anomalies``: a job's throughput and error rate against its project's history
  (median / MAD robust z-scores);
- ``metrics``: the same numbers in Prometheus text format, and an HTTP endpoint serving them;
- ``report``: the stakeholder report's sections (project overview, mapping coverage).

Dashboards (``dashboards/``) only compose these; nothing here changes a project.
"""

from workbench.monitoring import anomalies, metrics, views

__all__ = ["anomalies", "metrics", "views"]
