"""The README, the kernel spec and binder/ stay true to the code."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

from workbench.config import SETTINGS

REPO = Path(__file__).resolve().parents[2]


def settings_table() -> str:
    """The README's configuration table, generated from ``workbench.config.SETTINGS``."""
    rows = [
        "| Environment variable | Config file key | Meaning |",
        "| --- | --- | --- |",
        *(f"| `WORKBENCH_{s.name.upper()}` | `{s.name}` | {s.help} |" for s in SETTINGS),
    ]
    return "\n".join(rows)


def test_readme_documents_every_setting():
    readme = (REPO / "README.md").read_text()
    assert settings_table() in readme, (
        "README.md's configuration table is out of date; replace it with:\n" + settings_table()
    )


def test_readme_has_the_two_commands_and_sections():
    readme = (REPO / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    for heading in ("## Configuration", "## Jupyter kernel", "## Layout", "## Performance"):
        assert heading in readme
    assert "WORKBENCH_DATABASE_URL" in readme and "WORKBENCH_DASK_ADDRESS" in readme


def test_kernel_spec_is_portable_and_found_on_jupyter_path(monkeypatch):
    spec = json.loads((REPO / "kernels" / "workbench" / "kernel.json").read_text())
    assert spec["argv"][0] == "python" and "{connection_file}" in spec["argv"]
    monkeypatch.setenv("JUPYTER_PATH", str(REPO))
    from jupyter_client.kernelspec import KernelSpecManager

    found = KernelSpecManager().find_kernel_specs()
    assert Path(found["workbench"]) == REPO / "kernels" / "workbench"


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = re.split(r"==", line, maxsplit=1)
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_binder_has_the_pinned_set_and_executable_scripts():
    assert _pins(REPO / "binder" / "requirements.txt") == _pins(REPO / "constraints.txt"), (
        "binder/requirements.txt must pin what constraints.txt pins: copy constraints.txt there"
    )
    assert (REPO / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    for script in ("postBuild", "start"):
        path = REPO / "binder" / script
        assert path.stat().st_mode & stat.S_IXUSR, f"binder/{script} must be executable"
        assert path.read_text().startswith("#!/bin/bash")
    assert 'exec "$@"' in (REPO / "binder" / "start").read_text()
    assert os.access(REPO / "binder" / "start", os.X_OK)
