"""Lineage of a real copy job with renames and transforms: derived from the job's plan,
stored on request, queried per project and column, through the API and the CLI."""

from __future__ import annotations

import json

import psycopg
import pytest
from click.testing import CliRunner

from tests.matching.stored import other_organization
from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import InvalidInputError, NotFoundError
from workbench.governance.lineage import lineage, record_lineage
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
    assert lineage(store, "crm") == []  # stored only when asked
    recorded = record_lineage(store, job)
    rows = lineage(store, "crm")
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
    assert [e.action for e in list_events(store, "crm")].count("lineage.record") == 2


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
    acme = other_organization(store)
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

    result = run("lineage", "crm")
    assert result.exit_code == 0 and "No lineage stored" in result.output
    result = run("lineage", "crm", "--record", str(job))
    assert result.exit_code == 0, result.output
    assert "public.people.full_name" in result.output and "case=upper" in result.output
    result = run("--json", "lineage", "crm", "--column", "crm.persons.email")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["source"] == "public.people.email" and row["transform"] == {"mask": {"kind": "hash"}}
    assert run("lineage", "crm", "--column", "email").exit_code == 1
