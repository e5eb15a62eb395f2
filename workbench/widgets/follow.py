"""Following a live source from a notebook: the follower's turns until Stop, its lag and pace
on screen, and the cut-over one click away.

    FollowWidget(job_id, store=store)     # a copy started with follow=True

Start runs :func:`~workbench.engine.follow.follow_job` in a thread, turn after turn (every
``every`` seconds), and after each turn shows how far behind the source the target is, the
changes applied per second and in all, per table. Stop ends after the running turn (a turn
commits whole batches with their position: nothing half-applied). Cut over stops the
follower and runs :func:`~workbench.engine.cutover.cutover` (the source read-only first when
the box is ticked), showing the write-downtime window or the partitions that differ.
"""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as w

from workbench import render
from workbench.engine.cutover import cutover
from workbench.engine.follow import FollowResult, follow_job
from workbench.errors import WorkbenchError
from workbench.store import Store, open_store
from workbench.urls import mask_text
from workbench.widgets import static


class FollowWidget:
    def __init__(self, job_id: int, *, store: Store | None = None, every: float = 2.0) -> None:
        self.job_id, self.every = job_id, every
        self.store = store or open_store()
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.turns: list[FollowResult] = []
        self.error: BaseException | None = None
        self.cutover_result: Any = None
        self.start_button = w.Button(description="Follow", icon="play", button_style="primary")
        self.stop_button = w.Button(description="Stop", icon="stop", disabled=True)
        self.cutover_button = w.Button(description="Cut over", icon="exchange")
        self.read_only = w.Checkbox(value=True, description="make the source read-only first")
        self.lag = w.HTML(f"Job {job_id}: not following yet")
        self.tables = w.HTML()
        self.start_button.on_click(lambda _b: self.start())
        self.stop_button.on_click(lambda _b: self.stop())
        self.cutover_button.on_click(lambda _b: self.cut_over())

    @property
    def is_running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self) -> None:
        if self.is_running:
            return
        self.stop_event.clear()
        self.error = None
        self.start_button.disabled, self.stop_button.disabled = True, False
        self.thread = threading.Thread(target=self._run, name="workbench-follow", daemon=True)
        self.thread.start()

    def stop(self, wait: float | None = 60.0) -> None:
        """End after the running turn (it commits whole batches, then stops)."""
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(wait)

    def cut_over(self) -> Any:
        """Stop following, then cut over (see :func:`~workbench.engine.cutover.cutover`)."""
        self.stop()
        self.cutover_button.disabled = True
        self.lag.value = f"Job {self.job_id}: cutting over…"
        try:
            self.cutover_result = cutover(self.store, self.job_id, read_only=self.read_only.value)
        except WorkbenchError as exc:
            self.lag.value = (
                f"<b style='color:#b00'>Cut-over stopped</b>: {html.escape(mask_text(exc.message))}"
            )
            raise
        finally:
            self.cutover_button.disabled = False
        done = self.cutover_result
        self.lag.value = (
            f"<b style='color:#080'>Job {self.job_id} cut over</b>: "
            f"{render.number(done.changes_applied)} last changes applied, validated; "
            f"write downtime {render.seconds(done.downtime_seconds)}"
        )
        return done

    def _run(self) -> None:
        try:
            while not self.stop_event.is_set():
                turn = follow_job(self.store, self.job_id, stop=self.stop_event)
                self.turns.append(turn)
                self._show(turn)
                self.stop_event.wait(self.every)
        except BaseException as exc:  # the widget's boundary: shown, kept for the caller
            self.error = exc
            text = exc.message if isinstance(exc, WorkbenchError) else str(exc)
            self.lag.value = (
                f"<b style='color:#b00'>Follower stopped</b>: {html.escape(mask_text(text))}"
            )
        finally:
            self.start_button.disabled, self.stop_button.disabled = False, True

    def _show(self, turn: FollowResult) -> None:
        behind = turn.seconds_behind
        color = "#080" if behind is not None and behind < 5 else "#a60"
        self.lag.value = (
            f"Job {self.job_id}: <b class='wb-behind' style='color:{color}'>"
            f"{render.seconds(behind)} behind</b> · "
            f"{render.number(turn.changes_per_second)} changes/s · "
            + (f"{render.number(turn.changes_behind)} waiting · " if turn.changes_behind else "")
            + f"{render.number(turn.changes_total)} applied in all"
            + (" · caught up" if turn.caught_up else "")
        )
        per_table: dict[str, int] = {}
        for done in self.turns:
            for table, n in done.tables.items():
                per_table[table] = per_table.get(table, 0) + n
        rows = "".join(
            f"<tr><td>{html.escape(t)}</td><td>{n:,}</td></tr>"
            for t, n in sorted(per_table.items())
        )
        self.tables.value = (
            f"<table><tr><th>table</th><th>changes applied here</th></tr>{rows}</table>"
            if rows
            else ""
        )

    def view(self) -> w.Widget:
        if not hasattr(self, "_box"):
            self._box = w.VBox(
                [
                    w.HBox(
                        [self.start_button, self.stop_button, self.cutover_button, self.read_only]
                    ),
                    self.lag,
                    self.tables,
                ]
            )
        return self._box

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return static.mimebundle(self.view(), **kwargs)
