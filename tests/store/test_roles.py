"""Roles per organization: every role x action that matters, members and organizations,
the current user from JUPYTERHUB_USER, and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from workbench.cli import main
from workbench.config import load_settings
from workbench.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from workbench.governance import policy
from workbench.store import audit, connections, flags, jobs, open_store, organizations, projects

Action = Callable[[object], object]

# (name, least role, call): a representative of each kind of API call
ACTIONS: list[tuple[str, str, Action]] = [
    ("list projects", "viewer", lambda s: projects.list_projects(s)),
    ("read a project", "viewer", lambda s: projects.get_project(s, "base")),
    ("list connections", "viewer", lambda s: connections.list_connections(s, "base")),
    ("list jobs", "viewer", lambda s: jobs.list_jobs(s)),
    ("read the audit trail", "viewer", lambda s: audit.list_events(s)),
    ("read a flag", "viewer", lambda s: flags.get_flag(s, "learned_matcher")),
    ("list members", "viewer", lambda s: organizations.list_members(s)),
    ("read the masking policy", "viewer", lambda s: policy.get_policy(s, "base")),
    ("create a project", "editor", lambda s: projects.create_project(s, f"p-{s.user}")),
    ("rename a project", "editor", lambda s: projects.describe_project(s, "base", "d")),
    (
        "add a connection",
        "editor",
        lambda s: connections.add_connection(s, "base", f"c-{s.user}", "sqlite:///x.db"),
    ),
    (
        "read a connection's password",
        "editor",
        lambda s: connections.connection_url(s, connections.get_connection(s, "base", "src")),
    ),
    ("start a job", "editor", lambda s: jobs.create_job(s, "base", "copy", {})),
    ("add a member", "owner", lambda s: organizations.add_member(s, f"new-{s.user}", "viewer")),
    (
        "set a feature flag",
        "owner",
        lambda s: flags.set_flag(s, "experimental_engine", enabled=True),
    ),
    ("require masking", "owner", lambda s: policy.set_policy(s, "base", require_masking=True)),
    ("delete a project", "owner", lambda s: projects.delete_project(s, "doomed")),
]
RANK = {"viewer": 1, "editor": 2, "owner": 3}


@pytest.fixture
def team(store):
    """The owner's store with a project, and stores opened as a viewer and an editor."""
    projects.create_project(store, "base")
    connections.add_connection(store, "base", "src", "postgresql://app:Pw-R1@db1/shop")
    organizations.add_member(store, "vera", "viewer")
    organizations.add_member(store, "eddie", "editor")
    organizations.add_member(store, "olga", "owner")
    opened = {"owner": store}
    for role, user in (("viewer", "vera"), ("editor", "eddie")):
        opened[role] = open_store(store.settings.with_(user=user))
    yield opened
    for role in ("viewer", "editor"):
        opened[role].close()


@pytest.mark.parametrize("role", ["viewer", "editor", "owner"])
@pytest.mark.parametrize(("name", "least", "call"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_role_by_action(team, role: str, name: str, least: str, call: Action) -> None:
    store = team[role]
    if name == "delete a project":
        projects.create_project(team["owner"], "doomed")
    if RANK[role] >= RANK[least]:
        call(store)
    else:
        with pytest.raises(PermissionDeniedError) as caught:
            call(store)
        message = str(caught.value)
        assert f"is {role} in organization 'default'" in message
        assert f"needs {least}" in message and "workbench member set" in message


def test_a_demoted_or_removed_member_loses_rights_at_once(team):
    owner, editor = team["owner"], team["editor"]
    projects.create_project(editor, "mine")
    organizations.set_member_role(owner, "eddie", "viewer")
    with pytest.raises(PermissionDeniedError, match="is viewer"):
        projects.create_project(editor, "more")
    organizations.remove_member(owner, "eddie")
    with pytest.raises(PermissionDeniedError, match="not a member of organization 'default'"):
        projects.list_projects(editor)
    with pytest.raises(PermissionDeniedError, match="not a member of any organization"):
        open_store(owner.settings.with_(user="eddie"))
    actions = [e.action for e in audit.list_events(owner)]
    assert {"member.add", "member.role", "member.remove"} <= set(actions)


def test_strangers_cannot_open_the_store(store):
    with pytest.raises(PermissionDeniedError) as caught:
        open_store(store.settings.with_(user="mallory"))
    assert "workbench member add mallory" in str(caught.value)


def test_an_organization_keeps_an_owner(store):
    with pytest.raises(InvalidInputError, match="last owner"):
        organizations.set_member_role(store, store.user, "editor")
    with pytest.raises(InvalidInputError, match="last owner"):
        organizations.remove_member(store, store.user)
    with pytest.raises(NotFoundError):
        organizations.remove_member(store, "nobody")


def test_organizations_are_separate_and_chosen_by_setting(store):
    organizations.create_organization(store, "acme")
    acme = store.in_organization("acme")
    projects.create_project(acme, "rocket")
    organizations.add_member(acme, "wile", "editor")
    assert [o.name for o in organizations.list_organizations(store)] == ["acme", "default"]
    # wile belongs to acme only: it is chosen without being named
    wile = open_store(store.settings.with_(user="wile"))
    assert wile.identity.organization == "acme"
    assert [p.name for p in projects.list_projects(wile)] == ["rocket"]
    with pytest.raises(PermissionDeniedError, match="not a member of organization 'default'"):
        open_store(store.settings.with_(user="wile", organization="default"))
    wile.close()
    # the creator belongs to two: default unless named
    assert open_store(store.settings).identity.organization == "default"
    assert open_store(store.settings.with_(organization="acme")).identity.organization == "acme"
    with pytest.raises(Exception, match="still has 1 project"):
        organizations.delete_organization(acme, "acme")


def test_jupyterhub_user_is_the_current_user(monkeypatch):
    monkeypatch.delenv("WORKBENCH_USER", raising=False)
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-ann")
    assert load_settings().user == "hub-ann"
    monkeypatch.setenv("WORKBENCH_USER", "explicit")
    assert load_settings().user == "explicit"


def test_org_and_member_commands(store, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", store.settings.database_url.reveal())
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(store.settings.data_dir))
    monkeypatch.setenv("WORKBENCH_USER", store.user)
    runner = CliRunner()

    def run(*args: str, user: str | None = None) -> object:
        env = {"WORKBENCH_USER": user} if user else {}
        result = runner.invoke(main, ["--json", *args], env=env)
        assert result.exit_code == 0, result.output + str(result.stderr_bytes)
        return json.loads(result.stdout)

    assert run("org", "create", "labs")["role"] == "owner"
    assert run("--org", "labs", "member", "add", "ivy", "--role", "editor")["role"] == "editor"
    members = run("--org", "labs", "member", "list")
    assert {(m["user"], m["role"]) for m in members} == {(store.user, "owner"), ("ivy", "editor")}
    assert [o["name"] for o in run("org", "list", user="ivy")] == ["labs"]
    refused = runner.invoke(main, ["member", "add", "x"], env={"WORKBENCH_USER": "ivy"})
    assert refused.exit_code == 1 and "is editor in organization 'labs'" in refused.stderr
    assert run("--org", "labs", "member", "set", "ivy", "--role", "viewer")["role"] == "viewer"
    assert run("--org", "labs", "member", "remove", "ivy") == {"removed": "ivy"}
    assert run("--org", "labs", "org", "delete", "labs") == {"deleted": "labs"}
    assert [o["name"] for o in run("org", "list")] == ["default"]
