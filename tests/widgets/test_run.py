"""The Run widget and its ipywidgets progress sink, driving real copies of Chinook (SQLite)
into PostgreSQL on a local Dask cluster: handlers called as a click would call them."""

from __future__ import annotations

import time

import pytest

from workbench.engine.run import CopyOptions
from workbench.errors import JobCancelledError
from workbench.store import jobs
from workbench.widgets.run import RunWidget, WidgetProgress


@pytest.fixture
def target_url(pg_server):
    name = pg_server.create_database("wbruntgt")
    yield pg_server.url(name)
    pg_server.drop_database(name)


def test_progress_sink_draws_tables_and_rate():
    sink = WidgetProgress(max_tables=2)
    sink.start(7, {"a": 100, "b": 50, "c": 10})
    assert list(sink.bars) == ["a", "b"] and sink.overall.max == 160
    sink.phase("copy")
    sink.advance("a", 60)
    sink.advance("c", 10)
    time.sleep(0.01)
    sink.close()
    assert sink.overall.value == 70 and sink.bars["a"][0].value == 60
    assert "rows/s" in sink.overall_label.value and "copy" in sink.phase_label.value
    sink.advance("b", 80)  # more rows than estimated: the bar grows instead of overflowing
    sink.draw(force=True)
    assert sink.bars["b"][0].max == 80 and sink.bars["b"][0].bar_style == "success"


def test_run_widget_copies_chinook_in_background(chinook_sqlite, target_url, store):
    widget = RunWidget.copy(
        chinook_sqlite, target_url, CopyOptions(workers=1), store=store, project="demo"
    )
    widget.view()
    widget.start_button.click()  # what the browser's click does: the registered handler runs
    assert widget.is_running and widget.start_button.disabled  # the kernel is not blocked
    result = widget.wait(180)
    assert result.status == "succeeded" and result.validated
    assert widget.progress.overall.value == result.rows_read > 15_000
    assert widget.progress.bars["PlaylistTrack"][0].value == 8715
    assert "succeeded" in widget.status.value and "PlaylistTrack" in widget.summary.value
    assert not widget.start_button.disabled and widget.cancel_button.disabled
    assert jobs.get_job(store, widget.job_id).status == "succeeded"


def test_run_widget_cancel_stops_the_job(chinook_sqlite, target_url, store):
    options = CopyOptions(workers=1, partition_rows=300, max_rows_per_second=3_000)
    widget = RunWidget.copy(chinook_sqlite, target_url, options, store=store)
    widget.start()
    deadline = time.monotonic() + 120
    while widget.progress.rows_read == 0:
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.05)
    widget.cancel_button.click()
    with pytest.raises(JobCancelledError):
        widget.wait(120)
    # the widget says it was cancelled, what was kept and how to go on
    assert f"Job {widget.job_id} cancelled" in widget.status.value
    assert "kept" in widget.status.value and "--resume" in widget.status.value
    assert jobs.get_job(store, widget.job_id).status == "cancelled"
