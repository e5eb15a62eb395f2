"""The connector seam is complete for every registered kind, and nobody branches around it.

A new kind that forgets a part fails here with the part's place named (rather than with a
``KeyError`` deep in profiling or validation), and docs/adding-a-connector.md names only things
that exist.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.connectors.test_contract import FILE_KINDS
from tests.connectors.test_contract import KINDS as CONTRACT_KINDS
from workbench.connectors import REGISTRY, connector_class, dialect_of
from workbench.connectors.checksums import canonical, hash_sum_sql
from workbench.schema.quoting import QUOTES
from workbench.schema.sqlexpr import SQLGLOT_DIALECT
from workbench.schema.types.plan import TYPE_MAPS
from workbench.urls import SCHEME_KINDS

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "workbench"
GUIDE = ROOT / "docs" / "adding-a-connector.md"
CATEGORIES = ("int", "numeric", "text", "bool", "date", "timestamp", "timestamptz", "bytea")


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_kind_supplies_every_part(kind: str) -> None:
    cls = connector_class(kind)
    assert cls.kind == kind, f"{cls.__name__}.kind should be {kind!r}"
    assert cls.capabilities.dialect == kind, f"{cls.__name__}.capabilities.dialect"
    dialect = dialect_of(kind)
    assert dialect.name == kind, f"{cls.__name__}.dialect.name"
    assert dialect.placeholder in ("%s", "?")
    assert dialect.checksum is not None, f"{cls.__name__}.dialect.checksum (ChecksumSql)"
    assert kind in TYPE_MAPS, "workbench/schema/types/plan.py::TYPE_MAPS"
    assert kind in QUOTES, "workbench/schema/quoting.py::QUOTES"
    assert kind in SQLGLOT_DIALECT, "workbench/schema/sqlexpr.py::SQLGLOT_DIALECT"
    assert kind in SCHEME_KINDS.values(), "workbench/urls.py::SCHEME_KINDS"
    # every category has a rendering on this side, and a row hash aggregates them
    for category in CATEGORIES:
        assert canonical(kind, category, "x", kind, "text") != ""
    assert "x" in hash_sum_sql(kind, [("x", True)])


def test_every_kind_is_in_the_contract() -> None:
    covered = {SCHEME_KINDS[k] if k in FILE_KINDS else k for k in CONTRACT_KINDS}
    assert covered == set(REGISTRY), "tests/connectors/test_contract.py::KINDS"


def test_only_the_target_can_be_written() -> None:
    writable = {k for k in REGISTRY if connector_class(k).capabilities.can_write}
    assert writable == {"postgresql"}


_KIND_NAMES = {*REGISTRY, *SCHEME_KINDS}


def _branches_on_kind(tree: ast.AST) -> list[int]:
    """Lines comparing something called ``dialect``/``kind`` with a kind's name."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        names = [n for n in sides if isinstance(n, ast.Name | ast.Attribute)]
        named = any(
            (n.id if isinstance(n, ast.Name) else n.attr).endswith("dialect") for n in names
        )
        texts = {
            c.value
            for n in [node.left, *node.comparators]
            for c in ast.walk(n)
            if isinstance(c, ast.Constant) and isinstance(c.value, str)
        }
        if named and texts & _KIND_NAMES:
            found.append(node.lineno)
    return found


def test_no_caller_branches_on_a_dialect_name() -> None:
    allowed = (PACKAGE / "connectors", PACKAGE / "schema" / "types")
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if any(path.is_relative_to(a) for a in allowed):
            continue
        for line in _branches_on_kind(ast.parse(path.read_text(), str(path))):
            offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert offenders == [], "ask the connector's dialect or the kind's TypeMap instead"


def test_the_seam_check_sees_a_branch() -> None:
    code = (
        'if dialect == "mysql":\n    pass\nif self.source_dialect in ("sqlite", "x"):\n    pass\n'
    )
    assert _branches_on_kind(ast.parse(code)) == [1, 3]


_REFERENCE = re.compile(r"`((?:workbench|tests)/[\w/]+\.py)(?:::(\w+))?`")


def test_the_guide_names_only_what_exists() -> None:
    text = GUIDE.read_text()
    references = _REFERENCE.findall(text)
    assert len(references) >= 15
    for path, name in references:
        if "<kind>" in path:
            continue
        file = ROOT / path
        assert file.is_file(), f"docs/adding-a-connector.md names {path}, which does not exist"
        if name:
            defined = re.search(
                rf"^(class|def) {name}\b|^{name}\b\s*[:=]|^    {name}\b\s*[:=]",
                file.read_text(),
                re.M,
            )
            assert defined, f"docs/adding-a-connector.md names {path}::{name}, not defined there"
