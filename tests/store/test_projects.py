"""Projects through the API: lifecycle, duplicates, missing ones, validation, audit events."""

from __future__ import annotations

import pytest

from workbench.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from workbench.store import audit, projects


def _actions(store, project) -> list[str]:
    return [e.action for e in reversed(audit.list_events(store, project))]


def test_project_lifecycle_records_audit_events(store):
    created = projects.create_project(store, "  shop  ", "Move the shop to Postgres")
    assert (created.name, created.status, created.organization) == ("shop", "active", "default")
    assert created.created_by == "tester"
    assert projects.get_project(store, "shop") == created
    assert projects.get_project(store, created.id) == created

    renamed = projects.rename_project(store, "shop", "webshop")
    assert renamed.name == "webshop" and renamed.updated_at >= created.updated_at
    described = projects.describe_project(store, "webshop", "new words")
    assert described.description == "new words"
    archived = projects.archive_project(store, "webshop")
    assert archived.is_archived
    assert projects.list_projects(store) == []
    assert [p.name for p in projects.list_projects(store, include_archived=True)] == ["webshop"]
    assert not projects.restore_project(store, "webshop").is_archived
    projects.delete_project(store, "webshop")
    with pytest.raises(NotFoundError):
        projects.get_project(store, "webshop")

    # the deleted project's trail is still found by its last name
    assert _actions(store, "webshop") == [
        "project.create",
        "project.rename",
        "project.describe",
        "project.archive",
        "project.restore",
        "project.delete",
    ]
    events = audit.list_events(store, "webshop")
    assert {e.actor for e in events} == {"tester"}
    assert events[-1].details == {"description": "Move the shop to Postgres"}
    rename = next(e for e in events if e.action == "project.rename")
    assert rename.details == {"old_name": "shop", "name": "webshop"}


def test_duplicate_project_name_is_refused(store):
    projects.create_project(store, "shop")
    with pytest.raises(AlreadyExistsError, match=r"'shop' already exists.*choose another name"):
        projects.create_project(store, "shop")
    projects.create_project(store, "other")
    with pytest.raises(AlreadyExistsError):
        projects.rename_project(store, "other", "shop")
    assert len(projects.list_projects(store)) == 2


def test_missing_project_names_the_next_step(store):
    for call in (
        lambda: projects.get_project(store, "nope"),
        lambda: projects.rename_project(store, "nope", "x"),
        lambda: projects.archive_project(store, "nope"),
        lambda: projects.delete_project(store, "nope"),
        lambda: projects.get_project(store, 424242),
    ):
        with pytest.raises(NotFoundError, match="workbench project list"):
            call()
    with pytest.raises(NotFoundError, match="no audit events"):
        audit.list_events(store, "nope")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("x" * 201, "the limit is 200"),
        ("bad\x00name", "control characters"),
        ("bad\nname", "control characters"),
        ("tab\there", "control characters"),
        ("bidi\u202eoverride", "control characters"),
        (42, "must be text"),
    ],
    ids=["empty", "blank", "too-long", "nul", "newline", "tab", "bidi", "not-text"],
)
def test_invalid_project_names_are_refused(store, name, expected):
    with pytest.raises(InvalidInputError, match=expected):
        projects.create_project(store, name)
    assert projects.list_projects(store, include_archived=True) == []


@pytest.mark.parametrize(
    "name", ["x" * 200, "Ünïcödé 项目", "a/b:c@d", "emoji 👩\u200d💻"], ids=str.__len__
)
def test_valid_project_names_are_kept_exactly(store, name):
    assert projects.create_project(store, name).name == name
    assert projects.get_project(store, name).name == name


def test_description_limit(store):
    assert projects.create_project(store, "ok", "d" * 1000).description == "d" * 1000
    assert projects.create_project(store, "lines", "one\ntwo\tthree").description
    with pytest.raises(InvalidInputError, match="limit is 1000"):
        projects.create_project(store, "long", "d" * 1001)
    with pytest.raises(InvalidInputError, match="control characters"):
        projects.create_project(store, "ctl", "bell\x07")
