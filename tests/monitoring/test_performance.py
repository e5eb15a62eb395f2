"""A job's performance report: time by phase, per table rows/s, MB/s and which side bound it
(measured by the copy tasks), and recommendations that name their evidence."""

from __future__ import annotations

from workbench.monitoring.performance import (
    PerformanceReport,
    TablePerformance,
    recommendations,
)


def _table(name: str, **kw) -> TablePerformance:
    base = {"rows": 1_000_000, "bytes": 10**8, "partitions": 4, "seconds": 10.0,
            "read_seconds": 5.0, "write_seconds": 5.0}  # fmt: skip
    return TablePerformance(table=name, **{**base, **kw})


def _report(tables, phases) -> PerformanceReport:
    return PerformanceReport(1, "succeeded", sum(phases.values()), 0, phases, tables)


def test_each_recommendation_names_its_evidence():
    one_partition = _report([_table("big", partitions=1, seconds=40.0), _table("small")],
                            {"plan": 1.0, "copy": 40.0, "finish": 5.0})  # fmt: skip
    said = recommendations(one_partition, {"options": {"validate": True}})
    assert len(said) == 1 and "big was copied as one partition (1,000,000 rows" in said[0]
    assert "--partition-rows" in said[0]

    slow_finish = _report([_table("t")], {"plan": 1.0, "copy": 10.0, "finish": 30.0})
    said = recommendations(slow_finish, {"options": {"validate": True}})
    assert any("finish phase (keys, indexes and validation) took 30.0 s, 73%" in s for s in said)

    reading = _report([_table("t", read_seconds=9.0, write_seconds=1.0)], {"copy": 10.0})
    assert "Reading t bound the job" in recommendations(reading, {})[0]
    writing = _report([_table("t", read_seconds=1.0, write_seconds=9.0)], {"copy": 10.0})
    assert "Writing t bound the job" in recommendations(writing, {})[0]
    assert _table("t", read_seconds=5.0, write_seconds=5.5).bound == "balanced"
    assert _table("t", read_seconds=0.0, write_seconds=0.0).bound == "unknown"

    few = _report([_table("t", partitions=3)], {"copy": 20.0})
    assert (
        "Only 3 partitions for 4 parallel slots"
        in recommendations(few, {"options": {"max_connections": 4}})[-1]
    )
