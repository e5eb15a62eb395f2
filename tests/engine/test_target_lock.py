"""One job per target table at a time: a second job is refused at once, naming the first."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from tests.engine.helpers import count, make_numbers_table
from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import TargetBusyError
from workbench.store import jobs


@pytest.mark.slow  # a throttled first job holds the tables for seconds
def test_a_second_job_into_the_same_tables_is_refused_with_the_first_jobs_id(
    pg_database, target_url, store
):
    make_numbers_table(pg_database, 4000)
    slow = CopyOptions(workers=1, partition_rows=1000, max_rows_per_second=800)
    first: dict = {}
    thread = threading.Thread(
        target=lambda: first.setdefault(
            "result",
            copy_database(pg_database, target_url, slow, store=store,
                          on_job=lambda i: first.setdefault("id", i)),
        )
    )  # fmt: skip
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not (
            "id" in first and (jobs.get_job(store, first["id"]).statistics or {}).get("rows_read")
        ):
            assert time.monotonic() < deadline, "the first job never started copying"
            time.sleep(0.2)
        started = time.monotonic()
        with pytest.raises(TargetBusyError) as caught:
            copy_database(
                pg_database, target_url, CopyOptions(workers=1, if_exists="replace"), store=store
            )
        assert time.monotonic() - started < 20  # refused at once, not after a copy
        message = str(caught.value)
        assert f"job {first['id']}" in message and "public.numbers" in message
        assert caught.value.exit_code == 8
        second = jobs.get_job(store, caught.value.fields["job_id"])
        assert second.status == "failed"
    finally:
        thread.join(120)
    # the first job was not disturbed: it finished, every row once, validated
    assert first["result"].status == "succeeded" and first["result"].validated
    assert count(target_url, "numbers") == 4000
    # and its locks went with it: the next job may replace the tables
    again = copy_database(
        pg_database, target_url, CopyOptions(workers=1, if_exists="replace"), store=store
    )
    assert again.validated and count(target_url, "numbers") == 4000
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT count(*) FROM _workbench.running").fetchone()[0] == 0
