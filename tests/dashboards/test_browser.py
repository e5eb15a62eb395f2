"""The dashboards and widgets in a real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import re
import threading
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.dashboards.conftest import PASSWORDS, SCREENSHOTS, TOKEN
from workbench.engine.run import CopyOptions, copy_database
from workbench.samples import CHINOOK
from workbench.store import audit, jobs, projects

pytestmark = pytest.mark.browser


def wait_until(predicate, timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def log_in(page, url: str, user: str, password: str) -> None:
    """A dashboard's login page (Panel's provider ``workbench``, or the Voilà report's): the
    dashboard sends the browser there; fill the form, land on the dashboard."""
    page.goto(url)
    page.wait_for_url(re.compile(r"/login"))
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_panel_monitor_follows_a_running_copy(dash_store, panel_monitor, page, pg_server, tmp_path):
    store, _env = dash_store
    target = pg_server.create_database("wbdashtgt")
    source = tmp_path / "chinook.sqlite"
    source.write_bytes(CHINOOK.read_bytes())
    # slow enough (~15 s) that the page shows it running even on a loaded machine
    options = CopyOptions(workers=1, partition_rows=400, max_rows_per_second=1_000)
    job: dict = {}
    thread = threading.Thread(
        target=lambda: job.setdefault(
            "result",
            copy_database(f"sqlite:///{source}", pg_server.url(target), options, store=store,
                          project="monitored", on_job=lambda i: job.setdefault("id", i)),
        )
    )  # fmt: skip
    thread.start()
    try:
        wait_until(
            lambda: "id" in job and jobs.get_job(store, job["id"]).statistics.get("rows_read"),
            what="the job's first rows",
        )
        log_in(page, panel_monitor, "tester", PASSWORDS["tester"])
        shown = page.locator(".wb-rows-read")
        shown.wait_for(timeout=30_000)
        # the page follows the job that started, its status in colour
        page.locator(f"h3.wb-job[data-status=running]:has-text('Job {job['id']}')").wait_for()
        first = int(shown.inner_text().replace(",", ""))
        wait_until(lambda: int(shown.inner_text().replace(",", "")) > first, 30,
                   "the monitor's rows to advance")  # fmt: skip
        assert "ETA" in page.locator("h3.wb-job + p").inner_text()
        page.locator(".tabulator-row").first.wait_for()
        page.screenshot(path=str(SCREENSHOTS / "monitor.png"), full_page=True)
        thread.join(120)
        assert job["result"].status == "succeeded"
        done = page.locator(f"h3.wb-job[data-status=succeeded]:has-text('Job {job['id']}')")
        done.wait_for(timeout=30_000)
        assert shown.inner_text() == "15,607"
        page.get_by_text("Performance", exact=True).first.click()  # job show N --perf, here
        page.locator(".wb-perf").wait_for(timeout=30_000)
        assert "Time by phase: plan" in page.locator(".wb-perf").inner_text()
    finally:
        thread.join(120)
        pg_server.drop_database(target)
    assert not page.console_errors, page.console_errors


def test_panel_login_checks_the_store_and_shows_only_the_users_organization(
    dash_store, panel_monitor, page
):
    store, _env = dash_store
    if "tester-only-project" not in {p.name for p in projects.list_projects(store)}:
        projects.create_project(store, "tester-only-project")
        jobs.create_job(store, "tester-only-project", "copy", {})
    # no session cookie: the monitor sends the browser to the login page
    page.goto(panel_monitor)
    page.wait_for_url(re.compile(r"/login"))
    log_in(page, panel_monitor, "rita", "not-her-password")
    page.get_by_text("Invalid username or password").wait_for()
    log_in(page, panel_monitor, "mallory", "Dash-Pw-rita-22")  # not a user at all
    page.get_by_text("Invalid username or password").wait_for()

    log_in(page, panel_monitor, "rita", PASSWORDS["rita"])
    page.get_by_text("rivals-secret-project").first.wait_for(timeout=30_000)
    who = page.locator(".wb-who").filter(has_text="rita · organization rivals")
    who.wait_for(timeout=30_000)  # the header may draw after the table under load
    assert who.inner_text().startswith("rita · organization rivals")
    page.screenshot(path=str(SCREENSHOTS / "monitor-login-rivals.png"), full_page=True)
    assert page.get_by_text("tester-only-project").count() == 0  # another organization's
    rivals = store.in_organization("rivals")
    logins = [e for e in audit.list_events(rivals) if e.action == "dashboard.login"]
    assert [(e.actor, e.details["via"]) for e in logins][:1] == [("rita", "password")]
    assert all(e.action != "dashboard.login" or e.actor != "rita" for e in audit.list_events(store))
    assert not page.console_errors, page.console_errors  # the login page needs no CDN


@pytest.fixture
def reported_job(dash_store, pg_server, tmp_path):
    """A finished copy with a masked column in project 'reported' (the report's own data)."""
    import sqlite3

    store, _env = dash_store
    source = tmp_path / "people.sqlite"
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE person (id INTEGER PRIMARY KEY, email TEXT)")
        rows = [(i, f"p{i}@x.org") for i in range(30)]
        conn.executemany("INSERT INTO person VALUES (?, ?)", rows)
    target = pg_server.create_database("wbdashrep")
    options = CopyOptions(workers=1, transforms={"person": {"email": {"mask": {"kind": "hash"}}}})
    result = copy_database(f"sqlite:///{source}", pg_server.url(target), options, store=store,
                           project="reported")  # fmt: skip
    yield result.job_id
    pg_server.drop_database(target)


def test_voila_report_asks_for_a_login_and_shows_only_the_users_organization(
    voila, page, dash_store
):
    store, _env = dash_store
    if "tester-only-project" not in {p.name for p in projects.list_projects(store)}:
        projects.create_project(store, "tester-only-project")
    page.goto(voila)  # no cookie: the login page, not the report
    page.wait_for_url(re.compile(r"/login"))
    assert "Migration report" in page.inner_text("h1") and "Projects" not in page.content()
    page.screenshot(path=str(SCREENSHOTS / "report-login.png"))
    for user, password in (("rita", "not-her-password"), ("mallory", PASSWORDS["rita"]),
                           ("tester", PASSWORDS["rita"]), ("rita", "")):  # fmt: skip
        log_in(page, voila, user, password)
        page.get_by_text("Invalid credentials").wait_for()
    assert all("401" in e for e in page.console_errors)  # the refused posts, nothing else
    page.console_errors.clear()
    log_in(page, voila, "rita", PASSWORDS["rita"])
    page.get_by_text("rivals-secret-project").first.wait_for(timeout=60_000)
    # Markdown outputs render asynchronously, after the HTML tables beside them: wait for it
    page.get_by_text("rita · organization rivals").wait_for(timeout=30_000)
    body = page.inner_text("body")
    assert "tester-only-project" not in body and "reported" not in body  # another org's
    rivals = store.in_organization("rivals")
    events = [(e.actor, e.action, e.object_name, e.details) for e in audit.list_events(rivals)]
    assert ("rita", "dashboard.login", "report", {"via": "password"}) in events
    assert ("rita", "dashboard.view", "report", {}) in events
    assert not [e for e in audit.list_events(store) if e.actor == "rita"]  # only in hers
    assert not page.console_errors, page.console_errors


def test_voila_report_has_no_code_and_no_console_errors(voila, page, reported_job, dash_store):
    store, _env = dash_store
    log_in(page, voila, "tester", PASSWORDS["tester"])
    page.get_by_text("Migration report").wait_for(timeout=60_000)
    page.get_by_text("tester · organization default").wait_for(timeout=60_000)
    section = page.locator("section.wb-project").filter(
        has=page.locator("h2.wb-project-name", has_text=re.compile("^reported$"))
    )
    section.wait_for(timeout=30_000)
    body = page.inner_text("body")
    # figures at a glance: 30 rows moved, validated, nothing quarantined
    figures = section.locator(".wb-figure").all_inner_texts()
    assert any(f.split("\n") == ["ROWS MOVED", "30"] for f in figures), figures
    assert any(f.split("\n") == ["VALIDATION", "validated"] for f in figures), figures
    assert f"Validation of job {reported_job}" in section.inner_text()
    assert section.locator(".wb-charts svg").count() >= 2  # rows/s and rows per table
    for raw in ("NaT", "None", "nan", "Unnamed"):  # people's formats, no index columns
        assert not re.search(rf"\b{raw}\b", body), raw
    # the logged-in user and their organization only; the view is in its audit trail
    assert "tester · organization default" in body and "rivals-secret-project" not in body
    views = [e for e in audit.list_events(store) if e.action == "dashboard.view"]
    assert "tester" in [e.actor for e in views]
    for code in ("import ", "open_store", "report_store", "display(", "_wb.bind",
                 "report_html"):  # fmt: skip
        assert code not in body and code not in page.content()
    assert not re.search(r"postgresql://[^\s*]*:[^\s*@]+@", page.content())  # no password
    # the lineage of the reported project's copy, drawn: source -> mask -> target
    page.get_by_text("Column lineage (newest job)").first.wait_for(timeout=30_000)
    graph = page.locator("svg.wb-lineage").filter(has_text=f"job {reported_job} (copy")
    assert graph.count() == 1
    for label in ("person.email", "mask: hash", "person.id"):
        assert graph.locator("text", has_text=re.compile(rf"^{re.escape(label)}$")).count() == 1
    assert graph.locator("path").count() == 3  # id straight through; email via its mask
    assert page.locator("input, textarea, button").count() == 0  # nothing to change
    page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
    assert not page.console_errors, page.console_errors


def run_all_in_lab(page, lab: str, notebook: str) -> None:
    """Open ``notebook`` in a clean Lab workspace and run all its cells."""
    page.goto(f"{lab}/lab/tree/{notebook}?reset&token={TOKEN}")
    page.locator(".jp-Notebook").wait_for(timeout=60_000)
    select = page.locator(".jp-Dialog-button", has_text="Select")  # Lab may ask for the kernel
    try:
        select.wait_for(timeout=4_000)
        select.click()
    except PlaywrightTimeoutError:
        pass
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")).click()


def test_lab_renders_connect_widget_and_click_reaches_kernel(lab, page):
    run_all_in_lab(page, lab, "01-connect.ipynb")
    save = page.locator(".widget-button", has_text="Save")
    save.wait_for(timeout=90_000)
    assert page.locator(".widget-button", has_text="Test").count() == 1
    assert page.locator("input[type=password]").count() == 1  # the password is masked
    save.click()  # no name yet: the kernel's handler answers in the status line
    page.get_by_text("Name the connection before saving").wait_for(timeout=30_000)
    page.locator(".widget-select select, .widget-select").first.wait_for()  # schema browser
    page.screenshot(path=str(SCREENSHOTS / "lab-connect.png"))


MATCH_NOTEBOOK = r"""
import psycopg
from IPython.display import display
from workbench.matching.mappings import suggest_mappings
from workbench.samples import chinook_url, ensure_connection, store_server_database
from workbench.store import open_store
from workbench.widgets.match import MatchWidget

store = open_store()
target_url = store_server_database(store, "labmatch", fresh=True)
with psycopg.connect(target_url, autocommit=True) as conn:
    conn.execute("CREATE TABLE artists (artist_id int PRIMARY KEY, artist_name text)")
ensure_connection(store, "lab-match", "source", chinook_url(store.settings), "source")
ensure_connection(store, "lab-match", "target", target_url, "target")
mapping = next(m for m in suggest_mappings(store, "lab-match", "source", "target")
               if m.source_table == "Artist")
display(MatchWidget(store, "lab-match", mapping.id))
"""


def test_lab_renders_matching_widget_and_save_reaches_kernel(lab, page):
    import json
    import urllib.request

    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(MATCH_NOTEBOOK.strip())]
    body = json.dumps({"type": "notebook", "content": json.loads(nbformat.writes(nb))}).encode()
    request = urllib.request.Request(
        f"{lab}/api/contents/match.ipynb?token={TOKEN}",
        data=body,
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=30).read()
    run_all_in_lab(page, lab, "match.ipynb")
    save = page.locator(".widget-button", has_text="Save")
    save.wait_for(timeout=120_000)
    assert page.locator("svg").count() >= 1  # the mapping diagram
    assert page.get_by_text("ArtistId").count() >= 1  # source columns side by side
    decisions = page.locator(".widget-dropdown select").filter(has_text="accept")
    decisions.first.select_option("accept")  # accept the first suggestion
    save.click()  # the handler runs in the kernel and answers in the status line
    page.get_by_text(re.compile(r"Saved 1 decision\(s\); version 2")).wait_for(timeout=60_000)
    page.screenshot(path=str(SCREENSHOTS / "lab-match.png"))


def test_lab_launcher_opens_the_monitor_and_the_report(lab, page):
    """jupyter-server-proxy entries: Lab's launcher has a card for each dashboard, served
    under Lab's own URL and login (the servers start on first use)."""
    page.goto(f"{lab}/lab?reset&token={TOKEN}")
    for title in ("Workbench monitor", "Workbench report"):
        page.locator(".jp-LauncherCard", has_text=title).wait_for(timeout=90_000)
    page.screenshot(path=str(SCREENSHOTS / "lab-launcher.png"))
    page.goto(f"{lab}/workbench-monitor/monitor?token={TOKEN}")
    page.get_by_text("Workbench · jobs").first.wait_for(timeout=90_000)
    page.locator(".wb-who").filter(has_text="tester · organization default").wait_for(
        timeout=30_000
    )
    page.goto(f"{lab}/workbench-report/?token={TOKEN}")
    page.get_by_text("Migration report").wait_for(timeout=90_000)
    page.locator(".wb-identity").wait_for(timeout=60_000)
    assert "tester · organization default" in page.locator(".wb-identity").inner_text()
    assert not [e for e in page.console_errors if "favicon" not in e], page.console_errors
