"""SQLite split points: big tables are cut at the quantiles of a rowid-probe sample (no pass
over every key), balanced whatever the key's skew or the rowids' gaps; tables that cannot be
probed get exact boundaries."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from workbench.connectors import connect
from workbench.connectors.base import Partition

ROWS_SQL = """
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 299999)
INSERT INTO {table} SELECT {order}, {line}, 'v' || i FROM n
"""
# skewed parent keys: order 7 alone holds 60,000 lines, the others 1 to 6 lines each
ORDER = "CASE WHEN i < 60000 THEN 7 ELSE 100 + i / 4 * 3 END"
LINE = "CASE WHEN i < 60000 THEN i ELSE i % 4 END"


def _database(path: Path, ddl: str, table: str) -> str:
    conn = sqlite3.connect(path)
    conn.execute(ddl)
    conn.execute(ROWS_SQL.format(table=table, order=ORDER, line=LINE))
    # rows deleted from the middle: a gap in the rowids (probes there draw nothing)
    conn.execute(f"DELETE FROM {table} WHERE o BETWEEN 100000 AND 150000")
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def _cut(url: str, table_name: str, keys: tuple[str, ...], parts: int):
    connector = connect(url)
    connector.options["sample_threshold"] = 1000
    statements: list[str] = []
    run = connector.run

    def spy(sql: str, params=()):
        statements.append(sql)
        return run(sql, params)

    connector.run = spy  # type: ignore[method-assign]
    table = connector.introspect().table(table_name)
    points = connector.split_points(table, list(keys), parts)
    bounds = [None, *points, None]
    counts = [
        connector.count(table, Partition(table_name, None, i, keys, bounds[i], bounds[i + 1]))
        for i in range(len(bounds) - 1)
    ]
    total = connector.count(table)
    connector.close()
    return points, counts, total, statements


@pytest.mark.parametrize(
    ("ddl", "sampled"),
    [
        (
            "CREATE TABLE line (o INTEGER NOT NULL, l INTEGER NOT NULL, v TEXT, "
            "PRIMARY KEY (o, l))",
            True,
        ),
        # a column called rowid: the probes go through another alias of the rowid
        (
            "CREATE TABLE line (o INTEGER NOT NULL, l INTEGER NOT NULL, rowid TEXT, "
            "PRIMARY KEY (o, l))",
            True,
        ),
        # no rowid to probe: exact boundaries from a pass over the keys
        (
            "CREATE TABLE line (o INTEGER NOT NULL, l INTEGER NOT NULL, v TEXT, "
            "PRIMARY KEY (o, l)) WITHOUT ROWID",
            False,
        ),
    ],
    ids=["rowid", "rowid-taken", "without-rowid"],
)
def test_big_composite_key_cut_evenly(tmp_path, ddl, sampled):
    url = _database(tmp_path / "t.sqlite", ddl, "line")
    points, counts, total, statements = _cut(url, "line", ("o", "l"), 8)
    assert 200_000 < total < 300_000
    assert points == sorted(points) and len(points) == 7
    assert sum(counts) == total  # every row in exactly one slice
    # order 7's 60,000 lines are split across slices: equal ranges of `o` would put them in one
    assert max(counts) <= 1.25 * total / 8, counts
    exact = any("ROW_NUMBER" in s for s in statements)
    assert exact is not sampled, statements
    if sampled:
        alias = "_rowid_" if "rowid TEXT" in ddl else "rowid"
        assert any("random()" in s and f"WHERE {alias} IN" in s for s in statements)
