"""`workbench connection ...`: passwords from URL, variable or prompt; never printed."""

from __future__ import annotations

import json

import pytest

from tests.servers import free_port

CONNECTION_KEYS = {
    "id",
    "project_id",
    "project",
    "name",
    "kind",
    "role",
    "url",
    "has_secret",
    "options",
    "created_by",
    "created_at",
    "updated_at",
}


@pytest.fixture
def shop(run):
    assert run("project", "create", "shop").exit_code == 0


def _url_of(run, name: str) -> str:
    from workbench.config import load_settings
    from workbench.store import connections, open_store

    with open_store(load_settings()) as store:
        return connections.connection_url(store, connections.get_connection(store, "shop", name))


def test_password_from_url_env_or_prompt(run, shop, monkeypatch):
    from_url = run("connection", "add", "shop", "a", "mysql://app:Url-Pw-1@db1/shop")
    assert from_url.exit_code == 0, from_url.stderr
    assert from_url.stdout == (
        "Added source connection 'a' (mysql://app@db1/shop) to project 'shop' "
        "with an encrypted password.\n"
    )
    monkeypatch.setenv("SHOP_DB_PASSWORD", "Env-Pw-2")
    from_env = run(
        "connection",
        "add",
        "-p",
        "shop",
        "b",
        "postgresql://me@pg/db",
        "--role",
        "target",
        "--password-env",
        "SHOP_DB_PASSWORD",
        "--json",
    )
    data = json.loads(from_env.stdout)
    assert set(data) == CONNECTION_KEYS
    assert (data["role"], data["url"], data["has_secret"]) == (
        "target",
        "postgresql://me@pg/db",
        True,
    )
    prompted = run(
        "connection",
        "add",
        "-p",
        "shop",
        "c",
        "postgresql://me@pg/db",
        "--prompt-password",
        input="Prompt-Pw-3\n",
    )
    assert prompted.exit_code == 0 and "Password" in prompted.stderr
    no_secret = json.loads(run("connection", "add", "shop", "d", "sqlite:///x.db", "--json").stdout)
    assert no_secret["has_secret"] is False

    assert _url_of(run, "a") == "mysql://app:Url-Pw-1@db1/shop"
    assert _url_of(run, "b") == "postgresql://me:Env-Pw-2@pg/db"
    assert _url_of(run, "c") == "postgresql://me:Prompt-Pw-3@pg/db"

    listed = run("connection", "list", "shop", "--json")
    rows = json.loads(listed.stdout)
    assert [r["name"] for r in rows] == ["a", "b", "c", "d"] and set(rows[0]) == CONNECTION_KEYS
    shown = run("connection", "show", "shop", "a")
    everything = (
        from_url.stdout
        + from_env.stdout
        + prompted.stdout
        + prompted.stderr
        + listed.stdout
        + shown.stdout
        + run("connection", "list", "shop").stdout
        + run("project", "show", "shop", "--json").stdout
        + run("audit", "--json").stdout
    )
    for password in ("Url-Pw-1", "Env-Pw-2", "Prompt-Pw-3"):
        assert password not in everything


def test_connection_test_and_remove(run, shop, pg_database):
    run("connection", "add", "shop", "pg", pg_database, "--role", "target")
    tested = run("connection", "test", "shop", "pg", "--json")
    assert tested.exit_code == 0, tested.stderr
    data = json.loads(tested.stdout)
    assert set(data) == {"connection", "project", "ok", "server_version", "latency_ms", "url"}
    assert data["ok"] is True and data["server_version"].startswith("PostgreSQL")
    human = run("connection", "test", "shop", "pg")
    assert human.stdout.startswith("Connection 'pg' answered in ")

    removed = run("connection", "remove", "shop", "pg", "--json")
    assert json.loads(removed.stdout) == {"removed": "pg", "project": "shop"}
    assert run("connection", "list", "shop").stdout == "(none)\n"


def test_failing_test_is_exit_3_and_masked(run, shop):
    port = free_port()
    run("connection", "add", "shop", "gone", f"postgresql://u:Gone-Pw-4@127.0.0.1:{port}/x")
    result = run("connection", "test", "shop", "gone")
    assert result.exit_code == 3 and result.stdout == ""  # 3: cannot connect
    assert result.stderr.startswith("Error: Connection 'gone' (project 'shop'): Cannot connect")
    assert result.stderr.count("\n") == 1 and "Gone-Pw-4" not in result.stderr
    debug = run("connection", "test", "shop", "gone", "--debug")
    assert "Traceback" in debug.stderr and "Gone-Pw-4" not in debug.stderr


def test_connection_input_errors(run, shop, monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    cases = [
        (
            ["add", "-p", "shop", "x", "postgresql://u@h/db", "--password-env", "NOT_SET_ANYWHERE"],
            1,
            "NOT_SET_ANYWHERE is not set",
        ),
        (
            [
                "add",
                "-p",
                "shop",
                "x",
                "postgresql://u@h/db",
                "--password-env",
                "A",
                "--prompt-password",
            ],
            2,
            "not both",
        ),
        (["add", "-p", "shop", "x", "oracle://u:Bad-Pw-5@h/db"], 1, "Unknown connection kind"),
        (["add", "-p", "shop", "x", "mysqll://u:Bad-Pw-5@h/db"], 1, "Did you mean mysql?"),
        (["add", "-p", "shop", "x", "garbage"], 1, "Cannot parse connection URL"),
        (["add", "-p", "shop", "x", "sqlite:///a.db", "--role", "both"], 2, "Invalid value"),
        (["add", "-p", "shop", "x", "sqlite:///a.db", "--option", "novalue"], 2, "KEY=VALUE"),
        (["add", "-p", "ghost", "x", "sqlite:///a.db"], 1, "No project 'ghost'"),
        (["add", "x", "sqlite:///a.db"], 2, "Missing argument 'URL'"),  # PROJECT first
        (["test", "-p", "shop", "nope"], 1, "No connection 'nope' in project 'shop'"),
        (["remove", "-p", "shop", "nope"], 1, "No connection 'nope'"),
    ]
    for args, code, expected in cases:
        result = run("connection", *args)
        assert result.exit_code == code, (args, result.stderr)
        assert expected in result.stderr, (args, result.stderr)
        assert "Bad-Pw-5" not in result.stderr + result.stdout
    run(
        "connection",
        "add",
        "-p",
        "shop",
        "x",
        "sqlite:///a.db",
        "--option",
        "timeout=5",
        "--option",
        "mode=ro",
    )
    dup = run("connection", "add", "shop", "x", "sqlite:///b.db")
    assert dup.exit_code == 1 and "already has a connection named 'x'" in dup.stderr
    options = json.loads(run("connection", "show", "shop", "x", "--json").stdout)["options"]
    assert options == {"timeout": 5, "mode": "ro"}


def test_the_project_is_the_first_argument_and_the_old_spelling_still_works(run):
    run("project", "create", "spell")
    new = run("connection", "add", "spell", "a", "sqlite:///a.db")
    assert new.exit_code == 0 and "Note:" not in new.stderr
    old = run("connection", "add", "b", "--project", "spell", "sqlite:///b.db")
    assert old.exit_code == 0, old.stderr
    assert "Note: the project is now the first argument: `workbench connection add spell" in (
        old.stderr
    )
    listed = json.loads(run("connection", "list", "spell", "--json").stdout)
    assert [c["name"] for c in listed] == ["a", "b"]
    assert json.loads(run("connection", "list", "-p", "spell", "--json").stdout) == listed
