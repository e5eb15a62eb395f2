"""Which tables a DDL statement from the binlog touches: the follower stops on those it follows.

sqlglot reads some MariaDB DDL as an opaque command naming no table (RENAME TABLE, ALTER
ONLINE TABLE, system versioning): such table DDL must count as touching any table, never as
touching none (the follower would go on with rows of another shape)."""

from __future__ import annotations

import logging

import pytest

from workbench.connectors.mysql_binlog import _named_tables as named


@pytest.mark.parametrize(
    ("statement", "tables"),
    [
        ("ALTER TABLE items ADD COLUMN colour varchar(10)", {"items"}),
        ("ALTER TABLE shop.items RENAME COLUMN a TO b", {"items"}),
        ("TRUNCATE items", {"items"}),
        ("CREATE INDEX i ON items (name)", {"items"}),
        ("DROP TABLE IF EXISTS other", {"other"}),
        ("RENAME TABLE items TO items_old", {"*"}),
        ("ALTER ONLINE TABLE items ADD c int", {"*"}),
        ("ALTER TABLE items ADD SYSTEM VERSIONING", {"*"}),
        ("DROP TABLE elsewhere.t", set()),  # another database's table
        ("ALTER TABLE elsewhere.t ADD c int", set()),
        ("CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'x'", set()),
        ("GRANT SELECT ON shop.* TO app", set()),
    ],
)
def test_the_tables_a_statement_touches(statement, tables, caplog):
    with caplog.at_level(logging.WARNING):
        assert named(statement, "shop") == frozenset(tables)
    assert not [r for r in caplog.records if r.name.startswith("sqlglot")]  # no noise
