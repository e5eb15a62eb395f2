"""The suite needs nothing beside its checkout: its data is in tests/data, with licences."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from pathlib import Path

from tests.conftest import OUTSIDE_GUARD, REPO, datasets_dir
from tests.self_contained import OutsideCheckoutGuard


def test_datasets_come_from_the_checkout(monkeypatch):
    monkeypatch.delenv("WORKBENCH_DATASETS", raising=False)
    folder = datasets_dir()
    assert folder == REPO / "tests" / "data"
    for name in (
        "chinook.sqlite",
        "sakila-mysql-schema.sql",
        "sakila-mysql-data.sql",
        "sakila-postgres-schema.sql",
        "sakila-postgres-data.sql",
    ):
        # resolved (chinook is a link to the packaged copy): still inside the checkout
        assert (folder / name).resolve().is_relative_to(REPO), name
        assert (folder / name).stat().st_size > 10_000, name


def test_every_sample_file_is_tracked_and_licensed():
    licences = (REPO / "tests" / "data" / "LICENSES").read_text()
    tracked = subprocess.run(
        ["git", "ls-files", "tests/data"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    if not tracked:  # an exported tree without git: nothing to compare against
        tracked = [f"tests/data/{p.name}" for p in (REPO / "tests" / "data").iterdir()]
    names = {Path(p).name for p in tracked} - {"LICENSES"}
    assert names >= {"chinook.sqlite", "sakila-mysql-data.sql", "sakila-postgres-data.sql"}
    for name in names:
        assert name in licences, f"{name} has no licence entry in tests/data/LICENSES"


def test_the_datasets_override_names_a_missing_folder_clearly(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBENCH_DATASETS", str(tmp_path / "nowhere"))
    try:
        datasets_dir()
    except RuntimeError as err:
        assert "nowhere" in str(err) and "WORKBENCH_DATASETS" in str(err)
    else:
        raise AssertionError("a missing datasets folder was accepted")


def test_guard_records_a_sibling_folder_and_nothing_inside(tmp_path):
    checkout = tmp_path / "work" / "main"
    sibling = tmp_path / "work" / "shared" / "datasets" / "chinook.sqlite"
    guard = OutsideCheckoutGuard(checkout, allowed=())
    guard("open", (str(checkout / "tests" / "data" / "x.sql"), "r", 0))
    guard("open", (str(checkout.parent / "main-other" / "x"), "r", 0))
    guard("subprocess.Popen", ("psql", ["psql", "-f", str(sibling)], None, None))
    guard("open", (os.fsencode(sibling), "rb", 0))
    assert guard.reached == [
        f"open: {checkout.parent / 'main-other' / 'x'}",
        f"subprocess.Popen: {sibling}",
        f"open: {sibling}",
    ]


def test_guard_watches_the_siblings_of_a_clone_under_the_temp_dir(tmp_path):
    # CI clones into a fresh folder under /tmp: that folder's other entries are still
    # outside the checkout, while pytest's own temporary files elsewhere are fine
    clone = tmp_path / "ci-scratch" / "workbench"
    guard = OutsideCheckoutGuard(clone)
    assert guard.active
    guard("open", (str(tmp_path / "ci-scratch" / "shared" / "x.sql"), "r", 0))
    guard("open", (str(tmp_path / "elsewhere.txt"), "r", 0))
    guard("open", (str(clone / "tests" / "data" / "x.sql"), "r", 0))
    assert guard.reached == [f"open: {tmp_path / 'ci-scratch' / 'shared' / 'x.sql'}"]
    # a checkout directly in the temp dir (or /) has no siblings of its own to watch
    assert not OutsideCheckoutGuard(Path(tempfile.gettempdir()) / "main").active


def test_guard_is_installed_for_this_session():
    # the conftest's guard is live: an open of a sibling of the checkout is recorded (the
    # audit event fires before the file is looked up, so the file need not exist)
    if not OUTSIDE_GUARD.active:  # a checkout right in /tmp or /: its parent is everyone's
        assert OUTSIDE_GUARD.parent in (os.sep, tempfile.gettempdir())
        return
    sibling = REPO.parent / "no-such-sibling-of-the-checkout" / "chinook.sqlite"
    before = list(OUTSIDE_GUARD.reached)
    (REPO / "README.md").read_text()
    assert OUTSIDE_GUARD.reached == before
    with contextlib.suppress(FileNotFoundError):
        sibling.read_bytes()
    try:
        assert OUTSIDE_GUARD.reached == [*before, f"open: {sibling}"]
    finally:
        del OUTSIDE_GUARD.reached[len(before) :]  # this one was on purpose
