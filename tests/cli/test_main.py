"""The command itself: help everywhere, exit codes, the error boundary, --json and --debug."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from tests.cli.conftest import run_process
from workbench.cli import COMMAND_MODULES, main


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*prefix, name))


COMMANDS = list(_all_commands(main))


def test_every_group_module_is_registered():
    assert {"store", "projects", "connections"} <= set(COMMAND_MODULES)
    names = {c[0] for c in COMMANDS}
    assert {"init", "doctor", "audit", "project", "connection"} <= names
    assert {("project", "create"), ("connection", "test")} <= set(COMMANDS)


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda p: " ".join(p) or "workbench")
def test_help_on_every_command(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: workbench" in result.stdout
    assert "--json" in result.stdout and "--debug" in result.stdout


@pytest.mark.parametrize(
    "args",
    [["nope"], ["project", "create"], ["project", "list", "--bogus"], ["audit", "--limit", "0"]],
    ids=" ".join,
)
def test_usage_errors_exit_2(args):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "Error" in result.stderr and result.stdout == ""


def test_a_workbench_error_is_one_line_and_exit_1(run):
    result = run("project", "show", "ghost")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: No project 'ghost'")
    assert "Traceback" not in result.stderr


def test_debug_adds_the_traceback(run):
    result = run("project", "show", "ghost", "--debug")
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "NotFoundError" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("Error: No project 'ghost'")


def test_json_errors_are_json_on_stderr(run):
    result = run("--json", "project", "show", "ghost")
    assert result.exit_code == 1 and result.stdout == ""
    error = json.loads(result.stderr)["error"]
    assert error["type"] == "NotFoundError" and error["message"].startswith("No project 'ghost'")


def test_json_flag_before_or_after_the_command(run):
    run("project", "create", "p1")
    before = json.loads(run("--json", "project", "list").stdout)
    after = json.loads(run("project", "list", "--json").stdout)
    assert before == after and [p["name"] for p in after] == ["p1"]


def test_unexpected_errors_are_one_line_too(cli_env):
    @main.command("explode-for-test")
    def explode() -> None:
        raise RuntimeError("boom at postgresql://u:Boom-Pw@h/db")

    try:
        result = CliRunner().invoke(main, ["explode-for-test"], catch_exceptions=False)
        debug = CliRunner().invoke(main, ["--debug", "explode-for-test"], catch_exceptions=False)
    finally:
        main.commands.pop("explode-for-test")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: unexpected RuntimeError: boom at postgresql://u:***@h/db "
        "(run with --debug for the traceback)\n"
    )
    assert "Traceback" in debug.stderr and "Boom-Pw" not in debug.stderr


def test_real_process_exit_codes_and_verbose_logs(cli_env):
    ok = run_process("-vv", "init", env=cli_env)
    assert ok.returncode == 0, ok.stderr
    assert "DEBUG workbench.store.handle: opened Store(" in ok.stderr
    missing = run_process("project", "show", "ghost", env=cli_env)
    assert missing.returncode == 1 and missing.stderr.startswith("Error: No project 'ghost'")
    usage = run_process("project", "frobnicate", env=cli_env)
    assert usage.returncode == 2


@pytest.mark.slow
def test_verbose_copy_shows_phases_and_each_partition_from_the_workers(
    cli_env, chinook_sqlite, pg_server
):
    """-v: the job's phases; -vv: each partition's start and commit, logged on a Dask worker
    process and forwarded to the terminal, named by job, table and partition."""
    import re

    target = pg_server.create_database("wbverbose")
    try:
        done = run_process("-vv", "copy", chinook_sqlite, pg_server.url(target), "--workers",
                           "1", "--partition-rows", "2000", env=cli_env, timeout=240)  # fmt: skip
        assert done.returncode == 0, done.stderr
        err = done.stderr
        assert re.search(r"INFO workbench\.engine\.run: job \d+: plan done in [\d.]+ s; copy", err)
        assert re.search(r"job \d+: copy done in [\d.]+ s; finish", err)
        commits = re.findall(r"DEBUG workbench\.engine\.copy: (job-\w+) (.+?): committed (\d+) ",
                             err)  # fmt: skip
        assert sum(int(n) for _key, _part, n in commits) == 15607  # every Chinook row
        tables = {part.split("#")[0].split(".")[-1] for _key, part, _n in commits}
        assert {"Track", "InvoiceLine"} <= tables, commits
        assert len({key for key, _part, _n in commits}) == 1  # one job
    finally:
        pg_server.drop_database(target)


def test_a_reader_that_leaves_early_is_no_error(cli_env):
    """`workbench jobs | head`: the pipe closes before the output is written."""
    import os
    import subprocess

    from tests.cli.conftest import WORKBENCH

    assert run_process("init", env=cli_env).returncode == 0
    env = {**os.environ, **cli_env}
    proc = subprocess.Popen(
        [str(WORKBENCH), "jobs"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0, err
    assert "BrokenPipe" not in err and "Error" not in err and "Exception" not in err


def test_exit_codes_are_documented():
    from pathlib import Path

    from workbench.errors import EXIT_CODES, WorkbenchError

    doc = (Path(__file__).resolve().parents[2] / "docs" / "reliability.md").read_text()
    for code in EXIT_CODES:
        assert f"| {code} |" in doc, code
    kinds = {cls.exit_code for cls in _subclasses(WorkbenchError)} | {WorkbenchError.exit_code}
    assert kinds <= set(EXIT_CODES)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_shell_completion_completes_commands(cli_env):
    """README's completion line: the shell asks the command itself (click's protocol)."""
    env = {**cli_env, "_WORKBENCH_COMPLETE": "bash_complete", "COMP_WORDS": "workbench conn",
           "COMP_CWORD": "1"}  # fmt: skip
    done = run_process(env=env)
    assert done.returncode == 0 and "plain,connection" in done.stdout.split(), done.stdout
