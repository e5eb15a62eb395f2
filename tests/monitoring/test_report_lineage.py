"""The report's lineage graph: the newest job's columns as an inline SVG (source -> transform
-> target), escaped, with nothing to run; absent before any job."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from workbench.governance.lineage import LineageRecord
from workbench.monitoring.report import lineage_graph, lineage_svg, transform_label
from workbench.store import projects

SVG = "{http://www.w3.org/2000/svg}"


def texts(svg: str) -> list[str]:
    return [t.text for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_graph_of_a_real_job(mon_store, finished_job):
    svg = lineage_graph(mon_store, "mon")
    assert svg is not None and svg.startswith("<svg class='wb-lineage'")
    shown = texts(svg)  # parses: well-formed XML
    assert {"item.id", "item.name", "tag.label"} <= set(shown)
    assert any(s and s.endswith("item.name") and s != "item.name" for s in shown)  # target side
    assert f"job {finished_job.job_id}" in svg and "<script" not in svg


def test_no_graph_before_a_job(mon_store):
    projects.create_project(mon_store, "empty-lineage")
    assert lineage_graph(mon_store, "empty-lineage") is None


def record(source_column, target, transform=None, expression=None) -> LineageRecord:
    return LineageRecord(1, "public", "people", source_column, expression, transform, 2,
                         "crm", "persons", target)  # fmt: skip


def test_transforms_are_drawn_between_the_columns():
    svg = lineage_svg(
        [
            record("id", "person_id"),
            record("email", "email", {"mask": {"kind": "hash"}}),
            record("age", "age", {"cast": "int64"}),
            record(None, "flag", None, "CASE WHEN a < b THEN '<x>' END"),
        ],
        "job 1",
    )
    shown = texts(svg)
    assert "mask: hash" in shown and "cast: int64" in shown and "expression" in shown
    assert "public.people.(computed)" in shown and "crm.persons.person_id" in shown
    assert "&lt;x&gt;" in svg and "'<x>'" not in svg  # the expression is escaped (tooltip)
    # id goes straight through; three columns pass a transform: two curves each
    assert svg.count("<path") == 1 + 3 * 2
    assert "(mapping v2)" in svg


def test_transform_labels():
    assert transform_label(None, None) is None
    assert transform_label({"mask": {"kind": "fake", "provider": "email"}}, None) == "mask: fake"
    assert transform_label({"trim": "both", "case": "upper"}, None) == "trim: both, case: upper"
    assert transform_label({"value_map": {"a": "b"}}, "x + 1") == "expression, value_map"
