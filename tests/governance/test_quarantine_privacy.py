"""A quarantined row is masked like the copied rows, its error quotes no value, and a viewer
sees where and why a row was set aside, not what it held."""

from __future__ import annotations

import psycopg
import pytest

from workbench.engine.run import CopyOptions, copy_database
from workbench.monitoring import views
from workbench.monitoring.views import quarantined_rows
from workbench.store import jobs, open_store, organizations

EMAILS = [f"person{i}@example.org" for i in range(1, 41)]


@pytest.fixture
def people(pg_database) -> str:
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE people (id int PRIMARY KEY, email text, age text, code text)")
        conn.execute("CREATE TABLE members (email text PRIMARY KEY, age text)")
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO people VALUES (%s, %s, %s, %s)",
                [(i, e, "unknown-age" if i % 10 == 0 else str(20 + i),
                  "secret-code-x" if i % 7 == 0 else str(i))
                 for i, e in enumerate(EMAILS, start=1)],
            )  # fmt: skip
            cur.executemany(
                "INSERT INTO members VALUES (%s, %s)",
                [(e, "n/a" if i % 8 == 0 else str(i)) for i, e in enumerate(EMAILS, start=1)],
            )
    return pg_database


def test_quarantine_is_masked_and_quotes_no_values(people, target_url, store):
    with psycopg.connect(target_url, autocommit=True) as conn:  # code: integer, so PostgreSQL
        conn.execute(  # itself refuses 'secret-code-x' and names it in its error
            "CREATE TABLE people (id int PRIMARY KEY, email text, age bigint, code integer)"
        )
    options = CopyOptions(
        workers=1,
        if_exists="append",
        transforms={
            "people": {"email": {"mask": {"kind": "hash"}}, "age": {"cast": "int64"}},
            "members": {"email": {"mask": {"kind": "hash"}}, "age": {"cast": "int64"}},
        },
    )
    result = copy_database(people, target_url, options, store=store)
    assert result.rows_quarantined == 4 + 5 + 5  # ages (people), codes (people), ages (members)
    assert result.validated
    with psycopg.connect(target_url) as conn:
        stored = conn.execute(
            "SELECT table_name, source_key, row_data, error FROM _workbench.quarantine"
        ).fetchall()
        loaded = {r[0] for r in conn.execute("SELECT email FROM public.people").fetchall()}
    everything = repr(stored)
    assert not any(e in everything for e in EMAILS)  # no email in clear, anywhere
    errors = repr([e for *_, e in stored])  # errors quote no value; unmasked columns keep
    for value in ("unknown-age", "secret-code-x", "n/a"):  # theirs for the owner to fix
        assert value not in errors and value in everything
    for table, key, row, _error in stored:
        assert len(row["email"]) == 16  # masked as the copied rows are
        if table == "public.people":
            assert key == {"id": row["id"]}  # a plain key is kept (validation excludes it)
        else:
            assert key is None  # the key is the masked email: never stored in clear
    # the same mask as the loaded rows: a quarantined person can be found among them
    masked_people = {row["email"] for t, _, row, _ in stored if t == "public.people"}
    assert masked_people and not masked_people & loaded  # quarantined rows did not load
    copied_errors = [e for t, _, r, e in stored if t == "public.people" and r["id"] % 7 == 0]
    assert copied_errors and all('"…"' in e and "integer" in e for e in copied_errors)


def test_a_viewer_sees_where_and_why_not_what(people, target_url, store):
    options = CopyOptions(
        workers=1, transforms={"people": {"email": {"mask": {"kind": "hash"}},
                                          "age": {"cast": "int64"}}},
    )  # fmt: skip
    result = copy_database(people, target_url, options, store=store)
    organizations.add_member(store, "vera", "viewer")
    viewer = open_store(store.settings.with_(user="vera"))
    try:
        job = jobs.get_job(store, result.job_id)
        seen = quarantined_rows(viewer, job)
        assert list(seen.columns) == [
            "table",
            "partition",
            "source_key",
            "column",
            "error_kind",
            "at",
        ]
        assert len(seen) == 4 and set(seen["column"]) == {"age"}
        assert set(seen["error_kind"]) == {"value cannot be cast to int64"}
        summary = views.quarantine_by_class(viewer, job)  # what the monitor's viewer sees
        assert summary.to_dict("records") == [
            {"table": summary["table"][0], "column": "age",
             "error_kind": "value cannot be cast to int64", "rows": 4}
        ]  # fmt: skip
        editors = quarantined_rows(store, job)  # the owner sees the (masked) rows
        assert "row" in editors.columns and not any(e in repr(editors) for e in EMAILS)
    finally:
        viewer.close()
