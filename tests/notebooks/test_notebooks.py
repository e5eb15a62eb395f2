"""The notebooks run headless: papermill with parameters against real samples (MariaDB
Sakila, PostgreSQL Sakila, SQLite Chinook), nbval over their defaults, `workbench demo`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

from tests.notebooks.conftest import NOTEBOOKS
from workbench.store import jobs, open_store

pytestmark = pytest.mark.slow


def run(name: str, out_dir: Path, **parameters) -> str:
    """Execute a notebook with papermill; return all its text outputs joined."""
    out = out_dir / name
    papermill.execute_notebook(
        str(NOTEBOOKS / name), str(out), parameters=parameters, kernel_name="python3",
        progress_bar=False, execution_timeout=300, cwd=str(NOTEBOOKS),
    )  # fmt: skip
    nb = nbformat.read(out, as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    texts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            texts.append(o.get("text") or o.get("data", {}).get("text/plain", ""))
    return "\n".join(texts)


def saved(nb_store, project: str, role: str, **urls: str) -> None:
    """Save connections as a user would before running the notebooks (which take names)."""
    from workbench.config import load_settings
    from workbench.samples import ensure_connection

    url, data_dir = nb_store
    store = open_store(load_settings(database_url=url, data_dir=data_dir))
    try:
        for name, connection in urls.items():
            ensure_connection(store, project, name, connection, role)
    finally:
        store.close()


def test_connect_and_profile_against_mariadb_and_postgres(
    nb_env, nb_store, sakila_mysql, sakila_pg, tmp_path
):
    saved(nb_store, "nb-sakila", "source", sakila=sakila_mysql, sakila_pg=sakila_pg)
    text = run("01-connect.ipynb", tmp_path, project="nb-sakila", connection_name="sakila")
    assert "connected to mysql://" in text and "True" in text
    assert "ConnectWidget" not in text  # the widget renders as a widget, not a repr string
    text = run("02-profile.ipynb", tmp_path, project="nb-sakila", source="sakila_pg")
    assert "film_actor" in text and "profiled public.actor" in text  # the first table's profile


def test_match_migrate_validate_chinook_into_postgres(
    nb_env, nb_store, chinook_sqlite, pg_database, tmp_path
):
    saved(nb_store, "nb-chinook", "source", music=chinook_sqlite)
    saved(nb_store, "nb-chinook", "target", warehouse=pg_database)
    # 03 makes the target's tables from the type map, suggests and accepts mappings; 04 runs them
    text = run("03-match-and-map.ipynb", tmp_path, project="nb-chinook", source="music",
               target="warehouse")  # fmt: skip
    assert "source: sqlite://" in text and "11 target tables made from the type map" in text
    assert "Invoice -> Invoice" in text and "columns suggested" in text
    text = run("04-migrate.ipynb", tmp_path, project="nb-chinook", source="music",
               target="warehouse", workers=1)  # fmt: skip
    assert "running the accepted mappings of nb-chinook" in text
    assert "succeeded True" in text and "15,607 rows" in text
    text = run("05-validate-and-monitor.ipynb", tmp_path, project="nb-chinook")
    assert "PlaylistTrack" in text and "True" in text
    store = open_store()
    try:
        assert {j.status for j in jobs.list_jobs(store, "nb-chinook")} == {"succeeded"}
    finally:
        store.close()


def test_nbval_lax_over_the_guided_notebooks(nb_env, tmp_path):
    """Every cell runs on the defaults; cells marked NBVAL_CHECK_OUTPUT match their output."""
    books = [str(NOTEBOOKS / n) for n in ("01-connect.ipynb", "04-migrate.ipynb")]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), *books],
        capture_output=True, text=True, timeout=300, env=os.environ.copy(), cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout


def test_workbench_demo_writes_notebook_and_html(nb_env, tmp_path):
    exe = Path(sys.executable).parent / "workbench"
    proc = subprocess.run(
        [str(exe), "demo", "--output-dir", str(tmp_path / "artifacts"), "--workers", "1"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    notebook, html = tmp_path / "artifacts/quickstart.ipynb", tmp_path / "artifacts/quickstart.html"
    assert f"notebook: {notebook}" in proc.stdout and f"html:     {html}" in proc.stdout
    page = html.read_text()
    assert "succeeded 15607" in page and "validated: True" in page
    assert "***" in page or "postgres@" in page  # URLs are shown masked
    # offline: no widget renderer fetched from a CDN; each widget leaves its still picture
    assert "unpkg.com" not in page and "cdn.jsdelivr" not in page
    assert page.count("wb-static") >= 4  # schema browser, profile, match, run
    assert "Invoice -&gt; Invoice" in page or "Invoice -> Invoice" in page  # the match widget
    assert "names agree" in page  # its reasons, in words
    assert "100%" in page[page.index("4. Migrate") :]  # the run widget as it finished


def test_repository_kernel_spec_runs_a_notebook(nb_env, tmp_path, monkeypatch):
    """kernels/workbench is found through JUPYTER_PATH and `papermill -k workbench` runs on it
    (its kernel.json sets WORKBENCH_KERNEL, which the notebook prints)."""
    repo = NOTEBOOKS.parent
    monkeypatch.setenv("JUPYTER_PATH", str(repo))
    from jupyter_client.kernelspec import KernelSpecManager

    assert "workbench" in KernelSpecManager().find_kernel_specs()
    probe = nbformat.v4.new_notebook()
    probe.cells = [
        nbformat.v4.new_code_cell(
            "import os, workbench\nprint('kernel', os.environ.get('WORKBENCH_KERNEL'))"
        )
    ]
    nbformat.write(probe, tmp_path / "probe.ipynb")
    out = tmp_path / "out.ipynb"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "papermill"), str(tmp_path / "probe.ipynb"), str(out),
         "-k", "workbench", "--no-progress-bar"],
        env={**os.environ}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    printed = nbformat.read(out, as_version=4).cells[0].outputs[0]["text"]
    assert "kernel workbench" in printed
