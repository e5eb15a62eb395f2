"""The report's quality section shows the scores profiling stored for the project's tables."""

from __future__ import annotations

from workbench.monitoring.report import quality_scores
from workbench.profiling.stored import profiles_for
from workbench.store import connections, projects


def test_quality_scores_before_profiling_and_after(mon_store, bad_sqlite):
    project = projects.create_project(mon_store, "quality-report")
    connections.add_connection(mon_store, project.name, "src", bad_sqlite, role="source")
    assert quality_scores(mon_store, project.name) is None  # nothing profiled yet
    record = connections.get_connection(mon_store, project.name, "src")
    profiles = profiles_for(mon_store, connections.connection_url(mon_store, record), ["item"])
    frame = quality_scores(mon_store, project.name)
    assert frame is not None and list(frame["table"]) == ["item"]
    row = frame.iloc[0]
    assert row["phase"] == "before" and row["connection"] == "src" and row["rows"] == 1000
    assert row["score"] == profiles[0].quality.score
