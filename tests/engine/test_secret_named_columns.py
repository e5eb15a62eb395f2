"""A column named like a secret is a name: jobs, validation and the audit trail keep it."""

from __future__ import annotations

import psycopg
import pytest

from workbench.engine.repair import validate_job
from workbench.engine.run import CopyOptions, copy_database
from workbench.store import jobs
from workbench.store.audit import list_events
from workbench.store.redact import MASK, redact


def make_staff(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE staff (id int PRIMARY KEY, password text, api_key text, token text)"
        )
        conn.execute(
            "INSERT INTO staff SELECT i, 'hash' || i, 'k' || i, 't' || i"
            " FROM generate_series(1, 50) i"
        )


@pytest.mark.slow
def test_copy_then_validate_a_table_with_secret_named_columns(pg_database, target_url, store):
    make_staff(pg_database)
    rules = {"staff": {"password": {"trim": "both"}, "token": {"case": "upper"}}}
    options = CopyOptions(workers=1, transforms=rules)
    result = copy_database(pg_database, target_url, options, store=store)
    assert result.status == "succeeded" and result.validated

    stored = jobs.get_job(store, result.job_id).parameters["options"]["transforms"]
    assert stored == rules  # names kept, rules intact
    report = validate_job(result.job_id, store=store)  # was: column "***" does not exist
    assert report.ok, report.as_dict()

    created = [
        e for e in list_events(store) if e.action == "job.create" and e.object_id == result.job_id
    ]
    assert created[0].details["parameters"]["options"]["transforms"] == rules


def test_redaction_still_masks_secrets_where_they_live():
    # our own keyword names (top level) are masked; user-chosen names below them are not
    details = {"password": "s3cret", "mapping": {"password": {"trim": "both"}}}
    assert redact(details, key_depth=1) == {
        "password": MASK,
        "mapping": {"password": {"trim": "both"}},
    }
    # URL passwords are masked at every depth, whatever the key
    deep = {"a": {"b": ["mysql://u:hunter2@db/x"]}}
    assert "hunter2" not in str(redact(deep, key_depth=0))
    # with no depth given (connection options), every secret-looking key is masked
    assert redact({"x": {"api_key": "abc"}}) == {"x": {"api_key": MASK}}
