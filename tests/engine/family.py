"""Tables whose foreign keys cascade, and changes that set their actions off: for the
follower's tests of each source kind (tests/engine/test_follow*.py)."""

from __future__ import annotations

FAMILY = (
    "CREATE TABLE parent (id int PRIMARY KEY, code varchar(10) NOT NULL UNIQUE, name varchar(20))",
    # a child by key, cascading both ways, and its own child
    "CREATE TABLE child (id int PRIMARY KEY, parent_id int NOT NULL, FOREIGN KEY (parent_id)"
    " REFERENCES parent (id) ON DELETE CASCADE ON UPDATE CASCADE)",
    "CREATE TABLE grandchild (id int PRIMARY KEY, child_id int NOT NULL, FOREIGN KEY (child_id)"
    " REFERENCES child (id) ON DELETE CASCADE ON UPDATE CASCADE)",
    # by a unique column other than the key, set to NULL both ways
    "CREATE TABLE note (id int PRIMARY KEY, parent_code varchar(10), FOREIGN KEY (parent_code)"
    " REFERENCES parent (code) ON DELETE SET NULL ON UPDATE SET NULL)",
    # Sakila's shape: deletes refused while it refers, key changes cascade
    "CREATE TABLE ref (id int PRIMARY KEY, parent_id int NOT NULL, FOREIGN KEY (parent_id)"
    " REFERENCES parent (id) ON DELETE RESTRICT ON UPDATE CASCADE)",
)
FAMILY_TABLES = (("parent", "id"), ("child", "id"), ("grandchild", "id"), ("note", "id"),
                 ("ref", "id"))  # fmt: skip


def family_changes(cur, base: int) -> None:
    """Changes that set the foreign keys' actions off (MariaDB does not log what they change)."""
    k = base // 1000  # other rows each round
    cur.execute("UPDATE parent SET id = %s WHERE id = %s", (base + 1, k))  # cascades
    cur.execute("UPDATE parent SET code = CONCAT(code, 'x') WHERE id = %s", (10 + k,))
    cur.execute("DELETE FROM ref WHERE parent_id = %s", (30 + k,))
    cur.execute("DELETE FROM parent WHERE id = %s", (30 + k,))  # child, grandchild go
    cur.execute("INSERT INTO parent VALUES (%s, %s, 'new')", (base + 2, f"c{base + 2}"))
    cur.execute("INSERT INTO child VALUES (%s, %s)", (base + 2, base + 2))
    cur.execute("UPDATE child SET id = %s WHERE id = %s", (base + 3, 45 + k))


def family_rows() -> list[tuple[str, list[tuple]]]:
    """(INSERT statement, rows) for each table, parents first."""
    return [
        ("INSERT INTO parent VALUES (%s, %s, %s)", [(i, f"c{i}", f"p{i}") for i in range(1, 51)]),
        ("INSERT INTO child VALUES (%s, %s)", [(i, i) for i in range(1, 51)]),
        ("INSERT INTO ref VALUES (%s, %s)", [(i, i) for i in range(1, 51)]),
        ("INSERT INTO grandchild VALUES (%s, %s)", [(i, i) for i in range(1, 51)]),
        ("INSERT INTO note VALUES (%s, %s)", [(i, f"c{i}") for i in range(1, 51)]),
    ]
