"""The report page over a real finished job: figures at a glance, charts, people's formats."""

from __future__ import annotations

import re

from workbench.monitoring.report_page import report_html


def test_report_page_reads_at_a_glance(mon_store, finished_job):
    page = report_html(mon_store)
    section = page[page.index("<h2 class='wb-project-name'>mon</h2>") :]
    section = section[: section.index("</section>")]
    box = r"text-transform:uppercase'>([^<]+)</div><div style='font-size:20px'>(.*?)</div></div>"
    figures = dict(re.findall(box, section))
    assert figures["rows moved"] == "1,040" and figures["quarantined"] == "10"
    assert "validated" in figures["validation"] or "mismatch" in figures["validation"]
    assert figures["jobs"] == "1 succeeded of 1"
    assert section.count("<svg") >= 2  # rows/s over the job, rows per table
    assert f"Validation of job {finished_job.job_id}" in section
    jobs_table = section[section.index("Newest jobs") :]
    assert ">1,040<" in jobs_table  # separators in the tables too
    text = re.sub(r"<svg.*?</svg>", "", page, flags=re.S)
    for raw in ("NaT", "None", "nan", "Unnamed"):
        assert not re.search(rf"\b{raw}\b", text), raw
