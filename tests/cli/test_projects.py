"""`workbench project ...`: every subcommand, its --json shape and its failures."""

from __future__ import annotations

import json

PROJECT_KEYS = {
    "id",
    "name",
    "description",
    "status",
    "organization",
    "created_by",
    "created_at",
    "updated_at",
}


def test_project_commands_and_json_shapes(run):
    created = run("project", "create", "shop", "-d", "The shop", "--json")
    assert created.exit_code == 0, created.stderr
    data = json.loads(created.stdout)
    assert set(data) == PROJECT_KEYS and data["name"] == "shop" and data["status"] == "active"
    assert run("project", "create", "crm").stdout == "Created project 'crm' (id 2).\n"

    listed = json.loads(run("project", "list", "--json").stdout)
    assert [p["name"] for p in listed] == ["crm", "shop"] and set(listed[0]) == PROJECT_KEYS
    table = run("project", "list").stdout.splitlines()
    assert table[0].split() == ["NAME", "STATUS", "DESCRIPTION", "CREATED_BY", "CREATED_AT"]
    assert table[2].startswith("shop") and "The shop" in table[2]

    shown = json.loads(run("project", "show", "shop", "--json").stdout)
    assert set(shown) == PROJECT_KEYS | {"connections"} and shown["connections"] == []

    renamed = json.loads(run("project", "rename", "crm", "sales", "--json").stdout)
    assert renamed["name"] == "sales"
    assert json.loads(run("project", "archive", "sales", "--json").stdout)["status"] == "archived"
    assert [p["name"] for p in json.loads(run("project", "list", "--json").stdout)] == ["shop"]
    everything = json.loads(run("project", "list", "--all", "--json").stdout)
    assert [p["name"] for p in everything] == ["sales", "shop"]
    assert json.loads(run("project", "restore", "sales", "--json").stdout)["status"] == "active"

    deleted = json.loads(run("project", "delete", "sales", "--yes", "--json").stdout)
    assert deleted == {"id": 2, "name": "sales", "deleted": {"connections": 0, "jobs": 0}}


def test_empty_list_says_what_to_do(run):
    assert run("project", "list").stdout == "No projects yet: `workbench project create`\n"
    assert run("project", "list", "--json").stdout == "[]\n"


def test_delete_asks_first(run):
    run("project", "create", "shop")
    refused = run("project", "delete", "shop", input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.stderr
    assert "Delete project 'shop'" in refused.stderr
    assert run("project", "show", "shop").exit_code == 0
    no_input = run("project", "delete", "shop")  # no terminal, nothing typed: not deleted
    assert no_input.exit_code == 1
    confirmed = run("project", "delete", "shop", input="y\n")
    assert confirmed.exit_code == 0 and "Deleted project 'shop'" in confirmed.stdout
    assert run("project", "show", "shop").exit_code == 1


def test_project_failures_exit_1_with_one_line(run):
    run("project", "create", "shop")
    for args, expected in [
        (["project", "create", "shop"], "Error: A project named 'shop' already exists"),
        (["project", "create", " "], "Error: The project name must not be empty"),
        (["project", "create", "x" * 201], "the limit is 200"),
        (["project", "create", "a\x07b"], "control characters"),
        (["project", "create", "d", "-d", "x" * 1001], "the limit is 1000"),
        (["project", "archive", "ghost"], "Error: No project 'ghost'"),
        (["project", "rename", "ghost", "x"], "Error: No project 'ghost'"),
    ]:
        result = run(*args)
        assert result.exit_code == 1, args
        assert expected in result.stderr and result.stderr.count("\n") == 1, result.stderr
