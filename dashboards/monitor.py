"""Live monitoring of migration jobs (Panel). Serve with `workbench dashboard monitor`, or
`panel serve dashboards/monitor.py`. Reads the store only (workbench.monitoring); composes."""

from __future__ import annotations

import html
import sys

import pandas as pd
import panel as pn
from bokeh.models import ColumnDataSource, NumeralTickFormatter
from bokeh.plotting import figure

from workbench import render
from workbench.monitoring import anomalies, panel_auth, performance, views
from workbench.store import jobs, open_store
from workbench.store.audit import record_dashboard_login

pn.extension("tabulator", sizing_mode="stretch_width")


def _arg(name: str, default: str) -> str:
    return next((a.split("=", 1)[1] for a in sys.argv if a.startswith(f"--{name}=")), default)


REFRESH_MS = int(_arg("refresh-ms", "2000"))
AUTH = _arg("signin", "none")


def _store():
    """The store as the logged-in user sees it: their organization's projects only."""
    user = pn.state.user
    if AUTH == "none" or not user:
        if "store" not in pn.state.cache:
            pn.state.cache["store"] = open_store()
        return pn.state.cache["store"]
    store = panel_auth.user_store(user)
    if AUTH == "oauth" and user not in pn.state.cache.setdefault("oauth_logins", set()):
        pn.state.cache["oauth_logins"].add(user)
        record_dashboard_login(store, "monitor", via="oauth")
    return store


# numbers with separators, progress as bars, status in colour: one format on the whole page
_FORMATTERS = {
    "progress": {"type": "progress", "max": 100, "color": "#1a7f37", "legend": True},  # %
    **{
        c: {"type": "money", "precision": 0, "thousand": ",", "symbol": ""}
        for c in ("rows_read", "rows_copied", "rows_written", "rows_quarantined", "rows_estimate",
                  "rows_per_second", "bytes", "rows")
    },
}  # fmt: skip


def _table(frame: pd.DataFrame, height: int = 220) -> pn.widgets.Tabulator:
    return pn.widgets.Tabulator(
        frame, disabled=True, show_index=False, pagination="local", page_size=10, height=height,
        formatters=_FORMATTERS, layout="fit_data_stretch",
    )  # fmt: skip


# what fits a screen, most telling first (the store's frames carry more)
JOB_SHOWN = ["job_id", "project", "kind", "status", "progress", "rows_copied",
             "rows_quarantined", "rows_per_second", "seconds", "started_at"]  # fmt: skip
TABLE_SHOWN = ["table", "progress", "ETA", "rows_read", "rows_estimate", "rows_quarantined",
               "partitions_done", "partitions", "retries"]  # fmt: skip


def _performance_html(store, job_id: int) -> str:
    """The job's performance report (workbench job show N --perf) for this tab."""
    report = performance.job_performance(store, job_id)
    phases = " · ".join(f"{k} {render.seconds(v)}" for k, v in report.phases.items())
    advice = "".join(f"<li>{html.escape(r)}</li>" for r in report.recommendations)
    return (
        f"<p class='wb-perf'>Time by phase: {phases or render.MISSING}</p>"
        + render.table_html(report.rows_for_people(), performance.COLUMNS)
        + (f"<p><b>What would make it faster</b></p><ul>{advice}</ul>" if advice else "")
    )


def _percent(frame: pd.DataFrame) -> pd.DataFrame:
    """Progress as whole percent (the bar's legend reads 54, not 0.5436)."""
    share = pd.to_numeric(frame["progress"], errors="coerce").fillna(0.0)
    return frame.assign(progress=(share * 100).round().astype("int64"))


def _status_colours(value: str) -> str:
    return f"color: {render.STATUS_COLOURS.get(value, '#57606a')}; font-weight: bold"


def _styled(table: pn.widgets.Tabulator) -> pn.widgets.Tabulator:
    if "status" in table.value.columns:
        table.style.map(_status_colours, subset=["status"])
    return table


class Monitor:
    """The page: panes filled by :meth:`refresh` from the store."""

    def __init__(self) -> None:
        self.store = _store()
        self.job_select = pn.widgets.Select(name="Job", options={}, width=320)
        self.headline = pn.pane.HTML()
        self.overall = pn.indicators.Progress(name="overall", value=0, max=100, width=320)
        self.live = _table(pd.DataFrame(columns=JOB_SHOWN), 160)
        self.tables = _table(pd.DataFrame())
        self.quarantine = _table(pd.DataFrame())
        self.quarantine_classes = _table(pd.DataFrame(), 160)
        self.seen_live: set[int] = set()
        self.logs = _table(pd.DataFrame())
        self.performance = pn.pane.HTML()
        self.history = _table(pd.DataFrame(), 260)
        self.alerts = pn.Column()
        self.rate_source = ColumnDataSource({"seconds": [], "rows_per_second": []})
        plot = figure(height=220, x_axis_label="seconds", y_axis_label="rows/s", tools="")
        plot.line("seconds", "rows_per_second", source=self.rate_source, line_width=2)
        plot.yaxis.formatter = NumeralTickFormatter(format="0,0")  # 600,000, not 6.000e+5
        plot.sizing_mode = "stretch_width"
        self.rate_plot = pn.pane.Bokeh(plot)
        self.refresh()
        self.job_select.param.watch(lambda _e: self.refresh_job(), "value")

    def refresh(self) -> None:
        history = views.job_history(self.store, None, limit=200)
        self.history.value = history[[c for c in JOB_SHOWN if c != "progress"]]
        _styled(self.history)
        live = history[history["status"].isin(views.LIVE_STATUSES)]
        self.live.value = _percent(live[JOB_SHOWN])
        _styled(self.live)
        options = {
            f"#{r.job_id} {r.project} {r.kind} ({r.status})": int(r.job_id)
            for r in history.head(30).itertuples()
        }
        current = self.job_select.value
        self.job_select.options = options
        started = set(live["job_id"].astype(int)) - self.seen_live
        self.seen_live |= started
        if started:  # a job started since the last look: follow it
            self.job_select.value = max(started)
        elif current not in options.values() and options:
            self.job_select.value = next(iter(options.values()))  # newest job
        found = anomalies.check_frame(history)
        self.alerts.objects = [
            pn.pane.Alert(html.escape(a.message), alert_type="warning") for a in found[:5]
        ]
        self.refresh_job()

    def refresh_job(self) -> None:
        if not self.job_select.value:
            self.headline.object = "<p>No jobs yet: start one with <code>workbench copy</code>.</p>"
            return
        job = jobs.get_job(self.store, self.job_select.value)
        row = views.job_row(job)
        link = views.dashboard_link(job) if job.status in views.LIVE_STATUSES else None
        dask = (
            f' · <a href="{html.escape(link)}" target="_blank">Dask dashboard</a>' if link else ""
        )
        eta = f" · ETA {render.seconds(row['eta_seconds'])}" if row["eta_seconds"] else ""
        if row["seconds_behind"] is not None:  # a followed copy: its follower's lag
            eta += (
                f' · follower <span class="wb-behind">{render.seconds(row["seconds_behind"])}'
                f"</span> behind, {render.number(row['changes_per_second'])} changes/s"
                + (f", {render.number(row['changes_behind'])} waiting"
                   if row.get("changes_behind") else "")
            )  # fmt: skip
        self.headline.object = (
            f"<h3 class='wb-job' data-status='{html.escape(job.status)}'>Job {job.id} "
            f"{render.status(job.status)}</h3><p>"
            f'rows read <span class="wb-rows-read">{row["rows_read"]:,}</span> of about '
            f"{render.number(row['rows_estimate'] or None)} · "
            f"copied {row['rows_copied']:,} · quarantined {row['rows_quarantined']:,} · "
            f"retries {row['retries']} · {render.seconds(row['seconds'])} · "
            f"{render.rate(row['rows_per_second'])}{eta}{dask}</p>"
            + (f"<p style='color:#b00'>{html.escape(row['error'])}</p>" if row["error"] else "")
        )
        self.overall.value = round(100 * row["progress"])
        tables = views.table_progress(job)
        tables["ETA"] = [render.seconds(v) if v == v and v is not None else "" for v in
                         tables["eta_seconds"]]  # fmt: skip
        self.tables.value = _percent(tables[TABLE_SHOWN])
        rate = views.throughput(job)
        self.rate_source.data = {
            "seconds": rate["seconds"].tolist(),
            "rows_per_second": rate["rows_per_second"].tolist(),
        }
        self.logs.value = views.recent_logs(self.store, job.id, limit=30)
        self.performance.object = _performance_html(self.store, job.id)
        self.quarantine.value = views.quarantined_rows(self.store, job, limit=100)
        self.quarantine_classes.value = views.quarantine_by_class(self.store, job)

    def view(self) -> pn.template.BaseTemplate:
        job = pn.Column(
            pn.Row(self.job_select, self.overall),
            self.headline,
            pn.Tabs(
                ("Tables", self.tables),
                ("Rows/s", self.rate_plot),
                ("Quarantine", pn.Column(self.quarantine_classes, self.quarantine)),
                ("Log", self.logs),
                ("Performance", self.performance),
            ),
        )
        ident = self.store.identity
        who = f"{html.escape(ident.user)} · organization {html.escape(ident.organization)}"
        if AUTH != "none":
            who += " · <a href='./logout' style='color:white'>log out</a>"
        return pn.template.BootstrapTemplate(
            title="Workbench · jobs",
            # relative, so that it resolves under a proxy's --prefix too (Panel serves its
            # default /favicon.ico at the root only)
            favicon="static/extensions/panel/images/favicon.ico",
            header=[pn.pane.HTML(f"<div class='wb-who' style='color:white'>{who}</div>")],
            main=[
                self.alerts,
                pn.pane.Markdown("### Live jobs"),
                self.live,
                job,
                pn.pane.Markdown("### History"),
                self.history,
            ],
        )


monitor = Monitor()
pn.state.add_periodic_callback(monitor.refresh, period=REFRESH_MS)
monitor.view().servable()
