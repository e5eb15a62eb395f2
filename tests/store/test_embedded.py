"""The embedded default: started on first use, reused by later runs, safe to start twice at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.store.conftest import owner_engine
from workbench.config import Settings
from workbench.store import open_store, projects
from workbench.store.embedded import ROOT_PGDATA_BASE, embedded_pgdata, stop_embedded
from workbench.store.revisions import head_revision

# what one process does: wait for the go signal, open the store, report
CHILD = """
import json, os, sys, time
from pathlib import Path
from workbench.store import open_store, projects
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
ready.touch()
while not go.exists():
    time.sleep(0.01)
store = open_store()
names = [p.name for p in projects.list_projects(store)]
pid = int((store.pgdata / "postmaster.pid").read_text().split()[0])
print(json.dumps({"before": store.schema_before, "revision": store.schema_revision,
                  "projects": names, "pid": pid, "url": store.url}))
store.close()
"""


def _child_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update(
        WORKBENCH_DATA_DIR=str(settings.data_dir),
        WORKBENCH_USER="tester",
        WORKBENCH_CONFIG=os.environ["WORKBENCH_CONFIG"],
    )
    return env


def _spawn(settings: Settings, tag: str, tmp: Path) -> tuple[subprocess.Popen, Path]:
    ready = tmp / f"ready-{tag}"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ready), str(tmp / "go")],
        env=_child_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, ready


def _run_child(settings: Settings, tmp: Path) -> dict:
    (tmp / "go").touch()
    proc, _ = _spawn(settings, "solo", tmp)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out)


def test_embedded_store_is_created_then_reused_across_runs(embedded_settings, tmp_path):
    store = open_store(embedded_settings)
    assert store.is_embedded and store.schema_before is None
    assert "host=" in store.url and "/workbench?" in store.url
    projects.create_project(store, "kept")
    store.close()

    # a later run (another process) finds the same running server and the same data
    first = _run_child(embedded_settings, tmp_path)
    second = _run_child(embedded_settings, tmp_path)
    assert first["projects"] == second["projects"] == ["kept"]
    assert first["pid"] == second["pid"]
    assert first["before"] == first["revision"] == head_revision()

    # after the server stops, the next run starts it again on the same data
    assert stop_embedded(embedded_settings)
    again = _run_child(embedded_settings, tmp_path)
    assert again["projects"] == ["kept"] and again["pid"] != first["pid"]


def test_two_processes_initialise_the_same_embedded_store_at_once(embedded_settings, tmp_path):
    children = [_spawn(embedded_settings, tag, tmp_path) for tag in ("a", "b")]
    deadline = time.monotonic() + 60
    while not all(ready.exists() for _, ready in children):  # both imported, both waiting
        assert time.monotonic() < deadline, "children did not start"
        time.sleep(0.01)
    (tmp_path / "go").touch()
    results = []
    for proc, _ in children:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    # one created the store, the other found it; both on the one server
    assert sorted(r["before"] or "" for r in results) == ["", head_revision()]
    assert {r["pid"] for r in results} == {results[0]["pid"]}
    store = open_store(embedded_settings)
    with owner_engine(store).connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT count(*) FROM organizations")).scalar() == 1
    store.close()


@pytest.mark.parametrize("data_dir", ["/root/.local/share/workbench", "/srv/workbench"])
def test_pgdata_is_kept_out_of_the_private_data_dir_when_root(data_dir):
    """As root, postgres runs as another user: its data cannot live in the owner-only data
    dir (which holds the key file), so it lives beside it; otherwise inside it."""
    pgdata = embedded_pgdata(Settings(data_dir=Path(data_dir)))
    if os.geteuid() == 0:
        assert pgdata.is_relative_to(ROOT_PGDATA_BASE) and pgdata.name == "pgdata"
        other = embedded_pgdata(Settings(data_dir=Path(data_dir + "2")))
        assert other != pgdata  # one server per data dir
    else:
        assert pgdata == Path(data_dir) / "pgdata"
