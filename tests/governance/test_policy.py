"""Masking policy per project: defaults, require, exempt/unexempt with audit events, owners
only, and the `workbench masking policy|exempt|unexempt` commands."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from workbench.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from workbench.governance import policy
from workbench.store import Store, projects
from workbench.store.audit import list_events
from workbench.store.models import Membership


def set_role(store: Store, role: str) -> None:
    """Give the store's current user another role in its organization."""
    with store.session() as session:
        session.execute(
            update(Membership)
            .where(
                Membership.organization_id == store.identity.organization_id,
                Membership.user_id == store.identity.user_id,
            )
            .values(role=role)
        )


def test_defaults_require_exempt_unexempt_with_audit(store) -> None:
    project = projects.create_project(store, "crm")
    default = policy.get_policy(store, "crm")
    assert default == policy.MaskingPolicy(project.id, False, {}, None, None)

    on = policy.set_policy(store, "crm", require_masking=True)
    assert on.require_masking and on.updated_by == store.user and on.updated_at is not None
    exempt = policy.exempt_column(store, project.id, "persons.country", " a country code ")
    assert exempt.exemptions == {"persons.country": "a country code"}
    assert exempt.require_masking  # the other settings stay
    policy.exempt_column(store, "crm", "public.persons.city", "public directory")
    got = policy.get_policy(store, "crm")
    assert got.exemption("persons", "city", "public") == "public directory"
    assert got.exemption("persons", "country", "public") == "a country code"
    assert got.exemption("persons", "email") is None
    after = policy.unexempt_column(store, "crm", "persons.country")
    assert after.exemptions == {"public.persons.city": "public directory"}
    assert policy.get_policy(store, "crm").to_dict()["exemptions"] == after.exemptions

    events = [e for e in list_events(store, "crm") if e.action.startswith("masking_policy.")]
    assert [e.action for e in reversed(events)] == [
        "masking_policy.set",
        "masking_policy.exempt",
        "masking_policy.exempt",
        "masking_policy.unexempt",
    ]
    first, last = events[-1], events[0]
    assert first.details["before"] == {"require_masking": False, "exemptions": {}}
    assert first.details["after"] == {"require_masking": True, "exemptions": {}}
    assert last.details["column"] == "persons.country"
    assert "persons.country" in last.details["before"]["exemptions"]
    assert "persons.country" not in last.details["after"]["exemptions"]
    assert all(e.actor == store.user and e.project_id == project.id for e in events)


@pytest.mark.parametrize(
    ("column", "reason"),
    [("persons.email", ""), ("persons.email", "   "), ("email", "why"), ("a..b", "why")],
    ids=["empty-reason", "blank-reason", "no-table", "empty-part"],
)
def test_bad_exemptions_are_refused(store, column: str, reason: str) -> None:
    projects.create_project(store, "crm")
    with pytest.raises(InvalidInputError):
        policy.exempt_column(store, "crm", column, reason)
    assert policy.get_policy(store, "crm").exemptions == {}


def test_unexempt_of_a_column_not_exempt_is_not_found(store) -> None:
    projects.create_project(store, "crm")
    with pytest.raises(NotFoundError, match="not exempt"):
        policy.unexempt_column(store, "crm", "persons.email")
    with pytest.raises(NotFoundError, match="No project"):
        policy.get_policy(store, "nope")


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_only_owners_change_the_policy(store, role: str) -> None:
    projects.create_project(store, "crm")
    policy.exempt_column(store, "crm", "persons.city", "public")
    set_role(store, role)
    assert policy.get_policy(store, "crm").exemptions == {"persons.city": "public"}  # may read
    for change in (
        lambda: policy.set_policy(store, "crm", require_masking=True),
        lambda: policy.exempt_column(store, "crm", "persons.email", "why"),
        lambda: policy.unexempt_column(store, "crm", "persons.city"),
    ):
        with pytest.raises(PermissionDeniedError, match=f"is {role}.*needs owner"):
            change()
    set_role(store, "owner")
    assert policy.get_policy(store, "crm").require_masking is False
    assert policy.get_policy(store, "crm").exemptions == {"persons.city": "public"}


def test_policy_goes_with_its_project(store) -> None:
    projects.create_project(store, "crm")
    policy.set_policy(store, "crm", require_masking=True)
    projects.delete_project(store, "crm")
    projects.create_project(store, "crm")
    assert policy.get_policy(store, "crm").require_masking is False


def test_cli_policy_exempt_unexempt(store, monkeypatch) -> None:
    from workbench.cli import main

    monkeypatch.setenv("WORKBENCH_DATABASE_URL", store.settings.database_url.reveal())
    monkeypatch.setenv("WORKBENCH_USER", store.user)
    projects.create_project(store, "crm")

    def run(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    result = run("masking", "policy", "crm")
    assert result.exit_code == 0, result.output
    assert "not required" in result.output
    result = run("--json", "masking", "policy", "crm", "--require")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["require_masking"] is True
    result = run("masking", "exempt", "crm", "persons.city", "--reason", "public directory")
    assert result.exit_code == 0, result.output
    assert "persons.city" in result.output and "public directory" in result.output
    assert run("masking", "exempt", "crm", "persons.zip").exit_code == 2  # --reason required
    result = run("--json", "masking", "policy", "crm")
    data = json.loads(result.output)
    assert data["exemptions"] == {"persons.city": "public directory"}
    result = run("masking", "unexempt", "crm", "persons.city")
    assert result.exit_code == 0 and "no longer exempt" in result.output
    result = run("masking", "policy", "crm", "--no-require")
    assert result.exit_code == 0 and "not required" in result.output
    assert run("masking", "unexempt", "crm", "persons.city").exit_code == 1
