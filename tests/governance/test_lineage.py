"""Lineage of real jobs with renames and transforms: recorded by every job as soon as its plan
is known (copy, run_migration, resume; never duplicated), derived again on request, queried
per project and column, through the API and the CLI."""

from __future__ import annotations

import json
from dataclasses import replace

import psycopg
import pytest
from click.testing import CliRunner

from tests.governance.helpers import mapped_project
from workbench.engine.migrate import run_migration
from workbench.engine.repair import record_lineage
from workbench.engine.run import CopyOptions, copy_database, resume_job
from workbench.errors import InvalidInputError, NotFoundError
from workbench.governance.lineage import lineage
from workbench.store import jobs, organizations
from workbench.store.audit import list_events


@pytest.fixture
def people(pg_server):
    name = pg_server.create_database("wblineage")
    url = pg_server.url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE people (id int PRIMARY KEY, full_name text, email text, note text)"
        )
        conn.execute(
            "INSERT INTO people SELECT i, 'person ' || i, 'p' || i || '@example.com', ' n '"
            " FROM generate_series(1, 50) i"
        )
    yield url
    pg_server.drop_database(name)


MAPPING = {
    "public.people": {
        "target_schema": "crm",
        "target_table": "persons",
        "columns": {"id": "person_id", "full_name": "name", "email": "email", "note": "note"},
        "computed": [],
        "version": 3,
    }
}
TRANSFORMS = {
    "people": {
        "name": {"case": "upper"},
        "email": {"mask": {"kind": "hash"}},
        "note": {"trim": "both"},
    }
}


@pytest.fixture
def job(people, target_url, store) -> int:
    options = CopyOptions(mapping=MAPPING, transforms=TRANSFORMS, validate=False)
    result = copy_database(people, target_url, options, store=store, project="crm")
    assert result.status == "succeeded"
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT name FROM crm.persons WHERE person_id = 7").fetchone() == (
            "PERSON 7",
        )
    return result.job_id


def test_lineage_of_a_job_with_renames_and_transforms(store, job) -> None:
    automatic = lineage(store, "crm")  # recorded by the job itself
    recorded = record_lineage(store, job)
    rows = lineage(store, "crm")
    assert [replace(r, created_at=None) for r in rows] == [
        replace(r, created_at=None) for r in automatic
    ]
    assert [(r.source, r.transform, r.mapping_version, r.target) for r in rows] == [
        ("public.people.id", None, 3, "crm.persons.person_id"),
        ("public.people.full_name", {"case": "upper"}, 3, "crm.persons.name"),
        ("public.people.email", {"mask": {"kind": "hash"}}, 3, "crm.persons.email"),
        ("public.people.note", {"trim": "both"}, 3, "crm.persons.note"),
    ]
    assert {r.job_id for r in rows} == {job} and len(recorded) == 4
    assert all(r.created_at is not None for r in rows)
    record_lineage(store, job)  # recording again replaces, never duplicates
    assert len(lineage(store, "crm")) == 4
    events = [e for e in list_events(store, "crm") if e.action == "lineage.record"]
    assert [e.details["automatic"] for e in events] == [False, False, True]  # newest first


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("crm.persons.name", ["crm.persons.name"]),
        ("persons.name", ["crm.persons.name"]),
        ("public.people.full_name", ["crm.persons.name"]),  # the source side
        ("crm.persons.full_name", []),  # the old name is not a target column
    ],
)
def test_lineage_of_one_column(store, job, column: str, expected: list[str]) -> None:
    record_lineage(store, job)
    assert [r.target for r in lineage(store, "crm", column)] == expected


def test_lineage_refuses_bad_columns_and_other_organizations(store, job) -> None:
    record_lineage(store, job)
    with pytest.raises(InvalidInputError):
        lineage(store, "crm", "name")
    organizations.create_organization(store, "acme")
    acme = store.in_organization("acme")
    with pytest.raises(NotFoundError):
        lineage(acme, "crm")
    with pytest.raises(NotFoundError):
        record_lineage(acme, job)


def test_cli_lineage(store, job, monkeypatch) -> None:
    from workbench.cli import main

    monkeypatch.setenv("WORKBENCH_DATABASE_URL", store.settings.database_url.reveal())
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(store.settings.data_dir))  # the secret key

    def run(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    result = run("lineage", "crm", "--record", str(job))
    assert result.exit_code == 0, result.output
    assert "public.people.full_name" in result.output and "case=upper" in result.output
    result = run("--json", "lineage", "crm", "--column", "crm.persons.email")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["source"] == "public.people.email" and row["transform"] == {"mask": {"kind": "hash"}}
    assert run("lineage", "crm", "--column", "email").exit_code == 1


@pytest.fixture
def contacts(pg_server):
    """A source table with a text column to cast, and a target table that already exists."""
    name = pg_server.create_database("wblinsrc")
    url = pg_server.url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE people (id int PRIMARY KEY, full_name text, email text, age text)"
        )
        conn.execute(
            "INSERT INTO people SELECT i, 'person ' || i, 'p' || i || '@example.com',"
            " (20 + i)::text"
            " FROM generate_series(1, 40) i"
        )
    yield url
    pg_server.drop_database(name)


CONTACTS = {
    ("public", "people", "sales", "contacts"): {
        "columns": {"id": "contact_id", "full_name": "name", "email": "email", "age": "age"},
        "transforms": {
            "name": {"expression": "upper(full_name)"},
            "email": {"mask": {"kind": "hash"}},
            "age": {"cast": "int64"},
        },
        "computed": {"region": {"expression": "'west'"}},
    }
}


@pytest.fixture
def migrated(store, contacts, target_url) -> int:
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA sales")
        conn.execute(
            "CREATE TABLE sales.contacts (contact_id int PRIMARY KEY, name text, email text,"
            " age int, region text)"
        )
    mapped_project(store, "sales", contacts, target_url, CONTACTS, version=2)
    options = CopyOptions(workers=1, if_exists="append")
    result = run_migration("sales", store=store, options=options)
    assert result.status == "succeeded" and result.rows_copied == 40
    with psycopg.connect(target_url) as conn:
        row = conn.execute(
            "SELECT name, email, age, region FROM sales.contacts WHERE contact_id = 3"
        ).fetchone()
    assert row[0] == "PERSON 3" and row[2] == 23 and row[3] == "west"
    assert len(row[1]) == 16 and "@" not in row[1]  # masked
    return result.job_id


def test_run_migration_records_lineage_on_its_own(store, migrated) -> None:
    rows = lineage(store, "sales")
    assert [(r.source, r.expression, r.transform, r.mapping_version, r.target) for r in rows] == [
        ("public.people.id", None, None, 2, "sales.contacts.contact_id"),
        # the expression as it ran: rendered from its parse tree
        ("public.people.full_name", "UPPER(full_name)", None, 2, "sales.contacts.name"),
        ("public.people.email", None, {"mask": {"kind": "hash"}}, 2, "sales.contacts.email"),
        ("public.people.age", None, {"cast": "int64"}, 2, "sales.contacts.age"),
        ("public.people.(computed)", "'west'", None, 2, "sales.contacts.region"),
    ]
    assert {r.job_id for r in rows} == {migrated}
    (email,) = lineage(store, "sales", column="public.people.email")
    assert email.target == "sales.contacts.email"
    assert [r.target for r in lineage(store, "sales", column="sales.contacts.age")] == [
        "sales.contacts.age"
    ]


def test_resume_replaces_the_lineage_never_duplicates(store, migrated) -> None:
    jobs.set_job_status(store, migrated, "failed", error="driver died")  # as if it had
    result = resume_job(migrated, store=store)
    assert result.status == "succeeded"
    assert len(lineage(store, "sales")) == 5
    events = [e for e in list_events(store, "sales") if e.action == "lineage.record"]
    assert len(events) == 2 and all(e.details["automatic"] for e in events)


def test_cli_lineage_of_a_migration(store, migrated, monkeypatch) -> None:
    from workbench.cli import main

    monkeypatch.setenv("WORKBENCH_DATABASE_URL", store.settings.database_url.reveal())
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(store.settings.data_dir))
    result = CliRunner().invoke(
        main, ["--json", "lineage", "sales", "--column", "sales.contacts.age"],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["source"] == "public.people.age" and row["transform"] == {"cast": "int64"}
    assert row["mapping_version"] == 2 and row["job_id"] == migrated
