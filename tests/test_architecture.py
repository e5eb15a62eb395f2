"""Rules of docs/architecture.md that import-linter does not check (it runs in `make lint`)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"


def _imports(path: Path) -> list[ast.ImportFrom]:
    tree = ast.parse(path.read_text(), str(path))
    return [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]


def test_no_private_name_is_imported_from_another_module():
    """A name starting with _ belongs to its module: whoever needs it needs a public name."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in _imports(path):
            if not (node.module or "").startswith("workbench"):
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {alias.name}")
    assert not found, "private names imported across modules:\n" + "\n".join(found)


def test_the_rule_catches_a_private_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from workbench.engine.run import _task\nfrom os import _exit\n")
    names = [a.name for n in _imports(module) if n.module.startswith("workbench")
             for a in n.names]  # fmt: skip
    assert names == ["_task"]


def _layers() -> list[list[str]]:
    import tomllib

    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    return [[p.strip().removeprefix("workbench.") for p in line.split("|")] for line in layers]


def test_every_part_of_the_package_has_a_layer_and_the_doc_names_it():
    """A new package or top-level module must be placed in the layers contract, and
    docs/architecture.md must say where (so the enforced truth and its doc agree)."""
    placed = {part for line in _layers() for part in line}
    parts = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    parts |= {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert parts <= placed, f"not in the layers contract: {sorted(parts - placed)}"
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    missing = [part for part in sorted(placed) if f"`{part}`" not in doc]
    assert not missing, f"docs/architecture.md does not name: {missing}"
