"""Read the shared sample databases (Chinook, Sakila) into DataFrames with declared types.

Used by ``scripts/train_matcher.py``, ``benchmarks/matching_bench.py`` and the tests to
fabricate matching pairs from real tables. Chinook is read from its SQLite file; Sakila
is parsed from its MySQL scripts (no server needed): column names and types from the
schema script, rows from the INSERTs of the data script. Binary columns (a staff photo)
and the MySQL-5.7-only geometry column are left out.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench.matching import types


@dataclass
class SampleTable:
    """A real table: its name, its rows, and each column's declared type."""

    name: str
    frame: pd.DataFrame
    declared: dict[str, str]


def _typed(frame: pd.DataFrame, declared: dict[str, str]) -> pd.DataFrame:
    """Convert columns to the dtypes a database driver would hand out."""
    out = frame.copy()
    for column, type_text in declared.items():
        fam = types.family(type_text)
        if fam in ("integer", "decimal", "boolean"):
            out[column] = pd.to_numeric(out[column], errors="coerce")
            if fam != "decimal" and out[column].notna().all():
                out[column] = out[column].astype("int64")
        elif fam in ("datetime", "date"):
            out[column] = pd.to_datetime(out[column], errors="coerce")
    return out


def load_chinook(path: str | Path) -> dict[str, SampleTable]:
    """All tables of the Chinook SQLite database."""
    tables: dict[str, SampleTable] = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for name in names:
            if name.startswith("sqlite_"):
                continue
            declared = {r[1]: r[2] for r in con.execute(f'PRAGMA table_info("{name}")')}
            frame = pd.read_sql_query(f'SELECT * FROM "{name}"', con)
            tables[name] = SampleTable(name, _typed(frame, declared), declared)
    return tables


_VERSION_COMMENT = re.compile(r"/\*!\d+ .*?\*/", re.S)
_CREATE = re.compile(r"CREATE TABLE `?(\w+)`? \((.*?)\n\)\s*ENGINE", re.S)
_COLUMN = re.compile(r"^\s*`?(\w+)`?\s+([A-Za-z]+(?:\([^)]*\))?(?: UNSIGNED)?)", re.I)
_NOT_COLUMNS = ("PRIMARY", "KEY", "UNIQUE", "INDEX", "CONSTRAINT", "FULLTEXT", "SPATIAL")
_INSERT = re.compile(r"INSERT INTO `?(\w+)`? VALUES (.*?\));\s*$", re.S | re.M)
_TOKEN = re.compile(
    r"'((?:[^'\\]|\\.|'')*)'|(NULL)|(0x[0-9A-Fa-f]+)|([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|([(),])"
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "Z": "\x1a"}


def _unescape(text: str) -> str:
    text = text.replace("''", "'")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def _rows(values: str) -> list[list[object]]:
    rows: list[list[object]] = []
    row: list[object] = []
    for m in _TOKEN.finditer(values):
        text, null, hexa, number, punct = m.groups()
        if punct == "(":
            row = []
        elif punct == ")":
            rows.append(row)
        elif punct == ",":
            continue
        elif text is not None:
            row.append(_unescape(text))
        elif null:
            row.append(None)
        elif hexa:
            row.append(bytes.fromhex(hexa[2:]))
        else:
            row.append(number)
    return rows


def load_sakila(schema_path: str | Path, data_path: str | Path) -> dict[str, SampleTable]:
    """Sakila's tables from its MySQL schema and data scripts."""
    schema = _VERSION_COMMENT.sub("", Path(schema_path).read_text())
    declared_by_table: dict[str, dict[str, str]] = {}
    for name, body in _CREATE.findall(schema):
        declared: dict[str, str] = {}
        for line in body.splitlines():
            stripped = line.strip()
            if not stripped or stripped.upper().startswith(_NOT_COLUMNS):
                continue
            m = _COLUMN.match(line)
            if m:
                declared[m.group(1)] = m.group(2)
        declared_by_table[name] = declared
    data = _VERSION_COMMENT.sub("", Path(data_path).read_text())
    rows_by_table: dict[str, list[list[object]]] = {}
    for name, values in _INSERT.findall(data):
        rows_by_table.setdefault(name, []).extend(_rows(values))
    tables: dict[str, SampleTable] = {}
    for name, rows in rows_by_table.items():
        declared = declared_by_table[name]
        frame = pd.DataFrame(rows, columns=list(declared))
        binary = [c for c in frame.columns if types.family(declared[c]) == "binary"]
        frame = frame.drop(columns=binary)
        kept = {c: t for c, t in declared.items() if c not in binary}
        tables[name] = SampleTable(name, _typed(frame, kept), kept)
    return tables


def default_datasets() -> Path:
    """The sample databases of a checkout (``tests/data``; ``WORKBENCH_DATASETS`` overrides).

    Training and the matching benchmark run from a checkout; an installed package has no
    Sakila, so they ask for ``--datasets``.
    """
    import os

    explicit = os.environ.get("WORKBENCH_DATASETS")
    path = Path(explicit) if explicit else Path(__file__).resolve().parents[2] / "tests" / "data"
    if not (path / "chinook.sqlite").exists():
        raise FileNotFoundError(
            f"Sample datasets not found in {path}: pass --datasets (or set WORKBENCH_DATASETS) "
            "to a folder holding chinook.sqlite and the sakila-mysql-*.sql scripts"
        )
    return path


def load_all(datasets: str | Path | None = None) -> dict[str, SampleTable]:
    """Chinook and Sakila tables keyed ``chinook.Customer``, ``sakila.customer``, ..."""
    folder = Path(datasets) if datasets else default_datasets()
    out = {f"chinook.{k}": v for k, v in load_chinook(folder / "chinook.sqlite").items()}
    sakila = load_sakila(folder / "sakila-mysql-schema.sql", folder / "sakila-mysql-data.sql")
    out.update({f"sakila.{k}": v for k, v in sakila.items()})
    return out
