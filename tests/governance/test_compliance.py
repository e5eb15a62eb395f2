"""Compliance report of a real copy: PII found by the profiler, one column masked, one copied
unmasked under a policy requiring masking (the one violation), one exempt with its reason;
the HTML holds the run's audit entries; the CLI writes it and prints a summary."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import InvalidInputError, NotFoundError
from workbench.governance import policy
from workbench.governance.compliance import compliance_report, render_html, write_html
from workbench.profiling.stored import profiles_for
from workbench.store import projects


@pytest.fixture
def customers(tmp_path) -> str:
    path = tmp_path / "crm.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, phone TEXT,"
            " birth_date TEXT, city TEXT)"
        )
        conn.executemany(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?)",
            [
                (i, f"user{i}@example.com", f"+44 20 7946 {i:04d}",
                 f"19{50 + i % 40}-0{1 + i % 9}-1{i % 10}", ["Leeds", "York", "Bath"][i % 3])
                for i in range(1, 201)
            ],
        )  # fmt: skip
    return f"sqlite:///{path}"


@pytest.fixture
def copied(store, customers, target_url) -> int:
    """A profiled source, a policy requiring masking with one exemption, one copy job."""
    (profile,) = profiles_for(store, customers, ["customers"])
    assert profile.pii_columns == {
        "email": ["contact"], "phone": ["contact"], "birth_date": ["identity"],
    }  # fmt: skip
    projects.create_project(store, "crm")
    policy.set_policy(store, "crm", require_masking=True)
    policy.exempt_column(store, "crm", "customers.birth_date", "only the year is kept downstream")
    options = CopyOptions(
        workers=1, transforms={"customers": {"email": {"mask": {"kind": "hash"}}}}
    )
    result = copy_database(customers, target_url, options, store=store, project="crm")
    assert result.status == "succeeded" and result.validated
    return result.job_id


def test_report_flags_exactly_the_unmasked_column(store, copied) -> None:
    report = compliance_report(store, "crm", job=copied)
    by_column = {c.source.rsplit(".", 1)[1]: c for c in report.pii_columns}
    assert set(by_column) == {"email", "phone", "birth_date"}  # city is no PII
    assert by_column["email"].status == "masked"
    assert by_column["email"].mask == {"kind": "hash"}
    assert by_column["birth_date"].status == "exempt"
    assert by_column["birth_date"].exemption == "only the year is kept downstream"
    assert [c.source.rsplit(".", 1)[1] for c in report.violations] == ["phone"]
    assert by_column["phone"].target.endswith("customers.phone")
    assert report.summary() == {
        "jobs": 1, "pii_columns": 3, "masked": 1, "exempt": 1, "violations": 1,
    }  # fmt: skip
    (job,) = report.jobs
    assert job.id == copied and job.status == "succeeded" and job.validated is True
    assert job.rows_copied == 200 and [t["ok"] for t in job.validation] == [True]
    actions = [a.action for a in report.audit]
    for action in ("masking_policy.set", "masking_policy.exempt", "job.create", "job.start",
                   "lineage.record", "job.finish"):  # fmt: skip
        assert action in actions
    assert json.loads(json.dumps(report.to_dict()))["summary"]["violations"] == 1


def test_html_is_self_contained_and_holds_the_audit_entries(store, copied, tmp_path) -> None:
    report = compliance_report(store, "crm", job=copied)
    html = render_html(report)
    assert "<script" not in html and "http://" not in html and "https://" not in html
    start = html.index('id="violations"')
    violations = html[start : html.index("</table>", start)]
    assert "customers.phone" in violations and "customers.email" not in violations
    assert "only the year is kept downstream" in html
    audit = html[html.index('id="audit"') :]
    for event in report.audit:
        assert event.action in audit
    assert audit.count("<tr>") == len(report.audit) + 1  # one row per event, plus the header
    assert store.user in audit
    assert "sealed" not in audit  # the job's encrypted URLs stay out
    path = write_html(report, tmp_path / "r.html")
    assert path.read_text() == html


def test_exempting_or_masking_clears_the_violation(store, copied) -> None:
    policy.exempt_column(store, "crm", "customers.phone", "a switchboard number")
    assert compliance_report(store, "crm", job=copied).violations == []
    policy.set_policy(store, "crm", require_masking=False)
    report = compliance_report(store, "crm")  # the newest job by default
    assert report.scope == {"job": copied} and report.violations == []


def test_date_range_and_bad_arguments(store, copied) -> None:
    today = date.today()
    ranged = compliance_report(store, "crm", since=today - timedelta(days=1), until=today)
    assert [j.id for j in ranged.jobs] == [copied] and len(ranged.violations) == 1
    assert compliance_report(store, "crm", since=today + timedelta(days=1)).jobs == []
    with pytest.raises(InvalidInputError):
        compliance_report(store, "crm", job=copied, since=today)
    with pytest.raises(InvalidInputError):
        compliance_report(store, "crm", since=today, until=today - timedelta(days=2))
    projects.create_project(store, "other")
    with pytest.raises(NotFoundError):
        compliance_report(store, "other", job=copied)


def test_cli_report_compliance(store, copied, tmp_path, monkeypatch) -> None:
    from workbench.cli import main

    monkeypatch.setenv("WORKBENCH_DATABASE_URL", store.settings.database_url.reveal())
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(store.settings.data_dir))
    monkeypatch.chdir(tmp_path)

    def run(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    result = run("report", "compliance", "crm", "--job", str(copied))
    assert result.exit_code == 0, result.output
    path, summary = result.output.strip().splitlines()
    assert path == str(tmp_path / f"compliance-crm-job{copied}.html")
    assert summary == "crm: 1 job(s): 3 PII column(s), 1 masked, 1 exempt, 1 violation(s)"
    assert "customers.phone" in (tmp_path / f"compliance-crm-job{copied}.html").read_text()
    out = tmp_path / "range.html"
    result = run("--json", "report", "compliance", "crm", "--since", str(date.today()),
                 "--output", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["path"] == str(out) and out.exists()
    assert data["summary"]["violations"] == 1
    assert [v["source"].rsplit(".", 1)[1] for v in data["report"]["violations"]] == ["phone"]
    assert run("report", "compliance", "crm", "--job", "1", "--since", "2026-01-01").exit_code == 2
