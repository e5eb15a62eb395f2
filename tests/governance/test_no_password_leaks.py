"""A planted password appears nowhere: not in any command's output, the job's records, the
store, the target's bookkeeping, a notebook's output or its IPython history, the reports, the
data directory's files, or `ps` while a copy runs."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import papermill
import psycopg
import pytest

from tests.cli.conftest import WORKBENCH
from tests.conftest import REPO

pytestmark = pytest.mark.slow  # every command, notebook and ps

PLANTED = f"Plant-{uuid.uuid4().hex[:10]}-Pw"


@pytest.fixture
def secret_source(mysql_server):
    """A MariaDB database readable only by a user whose password is the planted one."""
    db = mysql_server.create_database("wbleak")
    user = f"leak_{uuid.uuid4().hex[:6]}"
    with mysql_server.connect(db) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(60))")
        cur.executemany(
            "INSERT INTO customers VALUES (%s, %s)",
            [(i, f"c{i}@example.org") for i in range(1, 3001)],
        )
        for host in ("%", "localhost"):
            cur.execute(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY '{PLANTED}'")
            cur.execute(f"GRANT SELECT ON `{db}`.* TO '{user}'@'{host}'")
    yield f"mysql://{user}@{mysql_server.host}:{mysql_server.port}/{db}"
    with mysql_server.connect() as conn, conn.cursor() as cur:
        for host in ("%", "localhost"):
            cur.execute(f"DROP USER IF EXISTS '{user}'@'{host}'")
    mysql_server.drop_database(db)


@pytest.fixture
def cli_env(store_url, tmp_path) -> dict[str, str]:
    """The command's store: a fresh database, a private data dir."""
    return {
        "WORKBENCH_DATABASE_URL": store_url,
        "WORKBENCH_DATA_DIR": str(tmp_path / "data"),
        "WORKBENCH_USER": "tester",
    }


def _env(cli_env: dict, tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    return {**env, **cli_env, "SRC_PW": PLANTED, "IPYTHONDIR": str(tmp_path / "ipython")}


def _run(env: dict, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(WORKBENCH), *args], env=env, capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert PLANTED not in done.stdout + done.stderr, args
    return done


def _ps_while(proc: subprocess.Popen) -> list[str]:
    """Every command line on the machine, sampled while ``proc`` runs."""
    seen: list[str] = []
    while proc.poll() is None:
        seen.append(subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout)
        time.sleep(0.3)
    return seen


def test_a_planted_password_appears_nowhere(
    secret_source, pg_database, cli_env, tmp_path, monkeypatch
):
    env = _env(cli_env, tmp_path)
    assert _run(env, "init").returncode == 0
    assert _run(env, "project", "create", "leak").returncode == 0
    added = _run(env, "connection", "add", "leak", "src", secret_source,
                 "--password-env", "SRC_PW")  # fmt: skip
    assert added.returncode == 0, added.stderr
    _run(env, "connection", "add", "leak", "tgt", pg_database, "--role", "target")
    for args in (
        ("connection", "test", "leak", "src"),
        ("connection", "list", "leak", "--json"),
        ("schema", "show", "leak", "src"),
        ("schema", "ddl", "leak", "src"),
        ("doctor", "--project", "leak"),
    ):
        assert _run(env, *args).returncode == 0, args

    # a copy by connection names: the password never reaches a command line
    copy = subprocess.Popen(
        [str(WORKBENCH), "copy", "src", "tgt", "--project", "leak", "--workers", "1",
         "--max-rows-per-second", "1000", "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen = _ps_while(copy)
    out, err = copy.communicate()
    assert copy.returncode == 0, err
    assert seen and not any(PLANTED in s for s in seen)
    assert PLANTED not in out + err
    # and by URL with the password from a variable
    by_url = _run(env, "copy", secret_source, pg_database, "--source-password-env", "SRC_PW",
                  "--if-exists", "replace", "--workers", "1", "--json")  # fmt: skip
    assert by_url.returncode == 0, by_url.stderr

    for args in (
        ("jobs", "--json"),
        ("job", "show", "1", "--logs", "--json"),
        ("validate", "1", "--json"),
        ("audit", "--project", "leak", "--json"),
        ("lineage", "leak", "--json"),
        ("report", "compliance", "leak", "--output", str(tmp_path / "compliance.html")),
        ("metrics", "serve", "--once"),
    ):
        assert _run(env, *args).returncode == 0, args
    assert PLANTED not in (tmp_path / "compliance.html").read_text()

    # a guided notebook, run headless by papermill with names (never URLs)
    out_nb = tmp_path / "04-migrate.ipynb"
    for key, value in {"IPYTHONDIR": env["IPYTHONDIR"], **cli_env}.items():
        monkeypatch.setenv(key, value)
    history = tmp_path / "ipython" / "history.sqlite"  # as a Lab kernel keeps it
    papermill.execute_notebook(
        str(REPO / "notebooks" / "04-migrate.ipynb"), str(out_nb),
        parameters={"project": "leak", "source": "src", "target": "tgt", "workers": 1},
        kernel_name="python3", progress_bar=False, cwd=str(REPO / "notebooks"),
        ipython_hist_file=str(history),
    )  # fmt: skip
    assert PLANTED not in out_nb.read_text()
    assert history.exists()  # the kernel kept its history: searched below with the rest

    # every file the workbench and the kernels wrote, and every row of the store and target
    for folder in (Path(cli_env["WORKBENCH_DATA_DIR"]), Path(env["IPYTHONDIR"]), tmp_path):
        for path in folder.rglob("*"):
            if path.is_file() and path.stat().st_size < 50_000_000:
                assert PLANTED.encode() not in path.read_bytes(), path
    for url in (cli_env["WORKBENCH_DATABASE_URL"], pg_database):
        with psycopg.connect(url) as conn:
            tables = conn.execute(
                "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables"
                " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).fetchall()
            for (table,) in tables:
                text = repr(conn.execute(f"SELECT * FROM {table}").fetchall())
                assert PLANTED not in text, table
