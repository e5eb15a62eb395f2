"""The Run widget: start a job, follow it per table and overall (rows/s), cancel it, see the result.

The job runs in a background thread so the kernel stays responsive (other cells, the Cancel
button). Progress comes through :class:`WidgetProgress`, the notebook's
:class:`~workbench.engine.progress.ProgressSink`; Cancel sets the ``threading.Event`` the
engine polls between partitions. No logic of its own: the job is a plain engine call.

    run = RunWidget.copy(source_url, target_url, CopyOptions(), project="shop")
    run            # shows Start / Cancel, the bars and the result
    run.start(); result = run.wait()      # the same from code (papermill)
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from workbench.engine.migrate import run_migration
from workbench.engine.run import CopyOptions, JobResult, copy_database
from workbench.errors import WorkbenchError
from workbench.store import Store
from workbench.urls import mask_text, mask_url
from workbench.widgets import static

if TYPE_CHECKING:
    from distributed import Client

MAX_TABLE_BARS = 8
REFRESH_SECONDS = 0.2  # at most five redraws a second: comm messages are not free

# a job function: (progress sink, cancel event, on_job callback) -> JobResult
JobStarter = Callable[[Any, threading.Event, Callable[[int], None]], JobResult]


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f} rows/s" if seconds > 0 else ""


class WidgetProgress:
    """A ProgressSink drawing ipywidgets bars: overall and the largest tables, with rows/s."""

    def __init__(self, max_tables: int = MAX_TABLE_BARS) -> None:
        self.max_tables = max_tables
        self.overall = w.IntProgress(value=0, min=0, max=1, description="overall")
        self.overall_label = w.Label()
        self.phase_label = w.HTML()
        self.table_box = w.VBox()
        self.bars: dict[str, tuple[w.IntProgress, w.Label]] = {}
        self.job_id: int | None = None
        self.estimates: dict[str, int] = {}
        self.rows: dict[str, int] = {}
        self.phase_name = ""
        self.closed = False
        self._started = time.monotonic()
        self._drawn = 0.0
        self._lock = threading.Lock()

    # --- the ProgressSink protocol (called from the job's thread) ---------------------
    def start(self, job_id: int, tables: dict[str, int]) -> None:
        self.job_id = job_id
        self.estimates = dict(tables)
        self.rows = dict.fromkeys(tables, 0)
        self._started = time.monotonic()
        self.overall.max = max(1, sum(tables.values()))
        largest = sorted(tables, key=lambda t: -tables[t])[: self.max_tables]
        self.bars = {
            name: (
                w.IntProgress(value=0, min=0, max=max(1, tables[name]), description=name[-20:]),
                w.Label(),
            )
            for name in largest
        }
        self.table_box.children = [w.HBox(list(pair)) for pair in self.bars.values()]
        self.draw(force=True)

    def advance(self, table: str, rows: int) -> None:
        with self._lock:
            self.rows[table] = self.rows.get(table, 0) + rows
        self.draw()

    def phase(self, name: str) -> None:
        self.phase_name = name
        self.phase_label.value = f"phase: <b>{html.escape(name)}</b>"
        self.draw(force=True)

    def close(self) -> None:
        self.closed = True
        self.draw(force=True)

    # --- view -----------------------------------------------------------------------------
    @property
    def rows_read(self) -> int:
        return sum(self.rows.values())

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn < REFRESH_SECONDS:
            return
        self._drawn = now
        seconds = now - self._started
        with self._lock:
            rows = dict(self.rows)
        total = sum(rows.values())
        self.overall.max = max(self.overall.max, total, 1)  # estimates can be low
        self.overall.value = total
        self.overall_label.value = f"{total:,} / ~{sum(self.estimates.values()):,} rows  " + _rate(
            total, seconds
        )
        for name, (bar, label) in self.bars.items():
            done = rows.get(name, 0)
            bar.max = max(bar.max, done, 1)
            bar.value = done
            label.value = f"{done:,} rows"
            if done >= (self.estimates.get(name) or 0) and done:
                bar.bar_style = "success"

    def view(self) -> w.Widget:
        return w.VBox(
            [self.phase_label, w.HBox([self.overall, self.overall_label]), self.table_box]
        )


class RunWidget:
    """Start / Cancel buttons, live progress and the job's summary; the job in a thread."""

    def __init__(self, starter: JobStarter, title: str = "job") -> None:
        self.starter = starter
        self.title = title
        self.progress = WidgetProgress()
        self.cancel_event = threading.Event()
        self.start_button = w.Button(description="Start", icon="play", button_style="primary")
        self.cancel_button = w.Button(description="Cancel", icon="stop", disabled=True)
        self.status = w.HTML(f"Ready: {html.escape(title)}")
        self.summary = w.HTML()
        self.thread: threading.Thread | None = None
        self.job_id: int | None = None
        self.result: JobResult | None = None
        self.error: BaseException | None = None
        self.start_button.on_click(lambda _b: self.start())
        self.cancel_button.on_click(lambda _b: self.cancel())

    @classmethod
    def copy(
        cls,
        source_url: str,
        target_url: str,
        options: CopyOptions | None = None,
        *,
        store: Store | None = None,
        project: str | None = None,
        client: Client | None = None,
    ) -> RunWidget:
        """A widget that runs :func:`~workbench.engine.run.copy_database` (on ``client``, a
        notebook's own ``distributed.Client``, when given)."""

        def starter(progress, cancel, on_job) -> JobResult:
            return copy_database(
                source_url,
                target_url,
                options,
                store=store,
                project=project,
                progress=progress,
                cancel=cancel,
                on_job=on_job,
                client=client,
            )

        return cls(starter, f"copy {mask_url(source_url)} -> {mask_url(target_url)}")

    @classmethod
    def migration(
        cls,
        project: str,
        *,
        store: Store | None = None,
        options: CopyOptions | None = None,
        client: Client | None = None,
    ) -> RunWidget:
        """A widget that runs a project's accepted mappings (:func:`run_migration`)."""

        def starter(progress, cancel, on_job) -> JobResult:
            return run_migration(
                project, store=store, options=options, progress=progress, cancel=cancel,
                on_job=on_job, client=client,
            )  # fmt: skip

        return cls(starter, f"migrate project {project}")

    # --- handlers -------------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self) -> None:
        if self.is_running:
            return
        self.cancel_event.clear()
        self.result, self.error, self.job_id = None, None, None
        self.progress = WidgetProgress()
        self._layout()
        self.start_button.disabled, self.cancel_button.disabled = True, False
        self.status.value = f"Running: {html.escape(self.title)}"
        self.summary.value = ""
        self.thread = threading.Thread(target=self._run, name="workbench-run", daemon=True)
        self.thread.start()

    def cancel(self) -> None:
        if self.is_running:
            self.cancel_event.set()
            self.cancel_button.disabled = True
            self.status.value = "Cancelling: running partitions roll back, committed ones are kept"

    def wait(self, timeout: float | None = None) -> JobResult:
        """Block until the job ends; return its result or raise its error."""
        if self.thread is not None:
            self.thread.join(timeout)
        if self.is_running:
            raise TimeoutError(f"job {self.job_id} still runs after {timeout} s")
        if self.error is not None:
            raise self.error
        if self.result is None:
            raise RuntimeError("the job was not started; call start() first")
        return self.result

    def _on_job(self, job_id: int) -> None:
        self.job_id = job_id
        self.status.value = f"Running job {job_id}: {html.escape(self.title)}"

    def _run(self) -> None:
        try:
            self.result = self.starter(self.progress, self.cancel_event, self._on_job)
        except BaseException as exc:  # the widget's boundary: the job recorded it; we show it
            self.error = exc
            kind = type(exc).__name__
            text = exc.message if isinstance(exc, WorkbenchError) else str(exc)
            # a cancel is not an error: it says what was kept and how to go on
            color, kind = ("#a60", "cancelled") if kind == "JobCancelledError" else ("#b00", kind)
            self.status.value = (
                f"<b style='color:{color}'>Job {self.job_id} {kind}</b>: "
                + html.escape(mask_text(text))
            )
        else:
            self.status.value = (
                f"<b style='color:#080'>Job {self.result.job_id} {self.result.status}</b>"
            )
            self.summary.value = summary_html(self.result)
        finally:
            self.start_button.disabled, self.cancel_button.disabled = False, True

    # --- view -----------------------------------------------------------------------------
    def _layout(self) -> None:
        if hasattr(self, "_box"):
            self._box.children = self._children()

    def _children(self) -> list[w.Widget]:
        return [
            w.HBox([self.start_button, self.cancel_button]),
            self.status,
            self.progress.view(),
            self.summary,
        ]

    def view(self) -> w.Widget:
        if not hasattr(self, "_box"):
            self._box = w.VBox(self._children())
        return self._box

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return static.mimebundle(self.view(), **kwargs)


def summary_html(result: JobResult) -> str:
    """The job's result as a small HTML table (totals, then one row per table)."""
    head = (
        f"<p>{result.rows_copied:,} rows copied, {result.rows_quarantined:,} quarantined in "
        f"{result.seconds:.1f} s ({result.rows_per_second:,.0f} rows/s); validated: "
        f"{'yes' if result.validated else 'no'}</p>"
    )
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{t.get('rows_written', 0):,}</td>"
        f"<td>{t.get('rows_quarantined', 0):,}</td><td>{t.get('seconds', 0):.2f}</td></tr>"
        for name, t in sorted(result.tables.items())
    )
    table = (
        "<table><tr><th>table</th><th>rows</th><th>quarantined</th><th>seconds</th></tr>"
        f"{rows}</table>"
    )
    return head + table
