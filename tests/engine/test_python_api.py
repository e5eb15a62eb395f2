"""`import workbench as wb`: a copy in one line, a project's whole flow in a few, each result
readable in a notebook cell (HTML) and in a terminal (text)."""

from __future__ import annotations

import psycopg
import pytest

import workbench as wb
from workbench.api import Mappings, Profiles
from workbench.engine.dry_run import DryRun
from workbench.engine.options import JobResult

pytestmark = pytest.mark.slow  # runs copies of Chinook


def test_copy_in_one_line_renders_for_people(chinook_sqlite, target_url, store):
    result = wb.copy(chinook_sqlite, target_url, store=store, tables="Genre")
    assert isinstance(result, JobResult)
    assert result.status == "succeeded" and result.validated and result.rows_copied == 25
    page = result._repr_html_()
    assert "succeeded" in page and "Genre" in page and "rows/s" in page
    assert "<table" in page and "NaT" not in page and "None" not in page
    text = str(result)
    assert text.startswith(f"Job {result.job_id} succeeded: 25 rows in ")
    assert "validated" in text and "Genre" in text

    planned = wb.copy(chinook_sqlite, target_url, store=store, dry_run=True)
    assert isinstance(planned, DryRun) and planned.rows == 15607


def test_a_project_from_connect_to_migrate(chinook_sqlite, target_url, store):
    # the target's tables exist, empty: the shape a team's new database has
    ddl = wb.copy(chinook_sqlite, target_url, store=store, dry_run=True).ddl
    create = ddl.split("-- phase 2")[0]
    with psycopg.connect(target_url, autocommit=True) as conn:
        for statement in create.split(";\n"):
            if statement.strip() and not statement.lstrip().startswith("--"):
                conn.execute(statement)

    shop = wb.project("apishop", store=store)
    assert wb.project("apishop", store=store).name == "apishop"  # found, not made twice
    shop.connect("src", chinook_sqlite)
    shop.connect("tgt", target_url, role="target")
    assert [c["name"] for c in shop.connections()] == ["src", "tgt"]

    profiles = shop.profile("src", ["Customer"])
    assert isinstance(profiles, Profiles) and profiles[0].rows == 59
    assert "Email" in profiles._repr_html_() and "email (100%)" in profiles._repr_html_()
    assert "contact" in str(profiles)  # the PII flag, in words

    suggested = shop.match("src", "tgt")
    assert isinstance(suggested, Mappings) and len(suggested) == 11
    assert "suggested" in suggested._repr_html_()
    accepted = shop.accept(min_confidence=0.0)
    assert all(c.state == "accepted" for m in accepted for c in m.columns if c.source_column)
    assert "accepted" in accepted._repr_html_()

    result = shop.migrate()
    assert result.status == "succeeded" and result.validated
    assert result.rows_copied == 15607
    assert shop.jobs()[0]["id"] == result.job_id


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'kopy'"):
        wb.kopy  # noqa: B018
