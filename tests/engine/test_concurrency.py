"""A job copies at most N partitions at once (each holds a source and a target connection),
and its --max-rows-per-second is the job's total however many partitions run together."""

from __future__ import annotations

import time

import pytest

from tests.engine.helpers import count, make_numbers_table
from workbench.engine.execute import copy_window
from workbench.engine.run import CopyOptions, copy_database
from workbench.store import jobs


def test_the_window_takes_the_smallest_limit():
    assert copy_window(slots=8, limit=None, free=[None, None]) == 8  # files: no server limit
    assert copy_window(slots=8, limit=None, free=[151, 7]) == 3  # half the target's free
    assert copy_window(slots=8, limit=2, free=[0, 0]) == 2  # an explicit limit is the user's
    assert copy_window(slots=2, limit=64, free=[None, None]) == 2
    assert copy_window(slots=8, limit=None, free=[0, 100]) == 1  # never zero


@pytest.fixture
def numbers(pg_server):
    name = pg_server.create_database("wbnums")
    url = pg_server.url(name)
    make_numbers_table(url, 8_000)
    yield url
    pg_server.drop_database(name)


def _window_said(store, job_id: int) -> str:
    return next(e.message for e in jobs.job_logs(store, job_id) if "at once" in e.message)


def test_max_connections_bounds_the_partitions_in_flight(numbers, target_url, store):
    options = CopyOptions(partition_rows=1_000, max_connections=1)
    result = copy_database(numbers, target_url, options, store=store)
    assert result.status == "succeeded" and result.validated
    assert count(target_url, "numbers") == 8_000
    assert _window_said(store, result.job_id).startswith("Copying at most 1 partitions at once")


@pytest.mark.slow  # throttled on purpose: two seconds
def test_the_rate_is_the_jobs_total(numbers, target_url, store):
    # on the shared cluster (two worker threads) --workers does not size anything: the rate
    # was once divided by it, so two partitions ran at the whole rate each
    options = CopyOptions(
        workers=1, partition_rows=1_000, batch_rows=500, max_rows_per_second=4_000, validate=False
    )
    started = time.monotonic()
    result = copy_database(numbers, target_url, options, store=store)
    took = time.monotonic() - started
    assert result.status == "succeeded" and count(target_url, "numbers") == 8_000
    assert "at most 2 partitions at once" in _window_said(store, result.job_id)
    # 8,000 rows at 4,000 rows/s in all take two seconds (each of 2 partitions got 2,000/s)
    assert took >= 1.9, f"the job ran at {8_000 / took:,.0f} rows/s"
