"""A job whose keys or constraints cannot be built ends `incomplete`, exits 5, names each
object and why, and `workbench copy --resume JOB` builds only those once the data is fixed."""

from __future__ import annotations

import json

import psycopg
import pytest
from sqlalchemy.engine import make_url

from workbench.engine.run import CopyOptions, copy_database, resume_job
from workbench.errors import IncompleteJobError
from workbench.store import jobs, open_store

pytestmark = pytest.mark.slow  # copies as processes


@pytest.fixture
def orphans(mysql_server, mysql_database) -> str:
    """A dump-like MariaDB database: child rows whose parent is missing (loaded with
    foreign_key_checks=0, as real dumps are), and a duplicate under a non-unique index that the
    source declares unique only in the target's eyes (none here: keys are fine)."""
    db = make_url(mysql_database).database
    with mysql_server.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SET foreign_key_checks = 0")
        cur.execute("CREATE TABLE artist (id INT PRIMARY KEY, name VARCHAR(40))")
        cur.execute(
            "CREATE TABLE album (id INT PRIMARY KEY, artist_id INT, title VARCHAR(40),"
            " CONSTRAINT album_artist FOREIGN KEY (artist_id) REFERENCES artist (id))"
        )
        cur.executemany("INSERT INTO artist VALUES (%s, %s)", [(i, f"a{i}") for i in range(1, 11)])
        cur.executemany(
            "INSERT INTO album VALUES (%s, %s, %s)",
            [(i, i % 10 + 1, f"t{i}") for i in range(1, 51)] + [(51, 99, "orphan")],
        )
    return mysql_database


def test_orphans_leave_the_job_incomplete_then_resume_builds_only_the_key(
    orphans, pg_database, store_url, tmp_path, monkeypatch, run
):
    db = make_url(orphans).database
    result = run("copy", orphans, pg_database, "--workers", "1", "--json")
    assert result.exit_code == 5, result.stderr
    assert "album_artist" in result.stderr and "could not be built" in result.stderr
    assert "workbench copy --resume" in result.stderr
    job_id = json.loads(result.stdout.strip().splitlines()[-1])["job_id"]

    from workbench.config import load_settings

    store = open_store(load_settings())
    try:
        job = jobs.get_job(store, job_id)
        assert job.status == "incomplete"
        unfinished = job.statistics["unfinished"]
        objects = [u["object"] for u in unfinished]
        assert objects == [f'foreign key "album_artist" on "{db}"."album"']
        assert "violates foreign key constraint" in unfinished[0]["error"]
        assert "(99)" in unfinished[0]["error"]  # the detail names the missing parent
        assert job.statistics["validated"] is True  # every row arrived as it is in the source

        # resuming before the data is fixed: still incomplete, exit 5 again
        again = run("copy", "--resume", str(job_id))
        assert again.exit_code == 5 and "album_artist" in again.stderr

        with psycopg.connect(pg_database, autocommit=True) as conn:
            conn.execute(f'INSERT INTO "{db}".artist VALUES (99, %s)', ("found later",))
        done = resume_job(job_id, store=store)
        assert done.status == "succeeded" and done.validated
        assert jobs.get_job(store, job_id).status == "succeeded"
        assert jobs.get_job(store, job_id).statistics["unfinished"] == []
        with psycopg.connect(pg_database) as conn:
            names = {
                r[0]
                for r in conn.execute(
                    "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass",
                    (f'"{db}".album',),
                )
            }
        assert "album_artist" in names and "album_pkey" in names
    finally:
        store.close()


def test_the_python_api_raises_a_typed_error(orphans, pg_database, store_url, tmp_path):
    from workbench.config import load_settings

    store = open_store(load_settings(database_url=store_url, data_dir=tmp_path / "d"))
    try:
        with pytest.raises(IncompleteJobError) as caught:
            copy_database(orphans, pg_database, CopyOptions(workers=1), store=store)
        assert caught.value.exit_code == 5
        assert caught.value.fields["objects"][0]["object"].startswith('foreign key "album_artist"')
    finally:
        store.close()
