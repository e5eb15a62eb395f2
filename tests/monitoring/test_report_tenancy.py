"""The stakeholder report and the monitor's views show a user only their organization."""

from __future__ import annotations

import pytest

from tests.engine.conftest import store  # noqa: F401
from workbench.errors import NotFoundError
from workbench.monitoring import report, views
from workbench.store import jobs, organizations, projects


def test_report_and_views_show_only_the_users_organization(store):  # noqa: F811
    projects.create_project(store, "ours")
    jobs.create_job(store, "ours", "copy", {})
    organizations.create_organization(store, "others")
    others = store.in_organization("others")
    projects.create_project(others, "theirs")
    jobs.create_job(others, "theirs", "copy", {})

    assert report.projects_overview(store)["project"].tolist() == ["ours"]
    assert report.projects_overview(others)["project"].tolist() == ["theirs"]
    assert set(views.job_history(store)["project"]) == {"ours"}
    assert set(views.job_history(others)["project"]) == {"theirs"}
    with pytest.raises(NotFoundError):
        report.column_mappings(store, "theirs")
