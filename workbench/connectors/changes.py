"""What a source's change stream yields to the follower (``engine.follow``), whatever reads it.

In source commit order: each row change of a followed table, each commit with the position
just after it (where a resumed follower starts again), and what changes a followed table's
definition. MySQL/MariaDB: ``connectors.mysql_binlog``; PostgreSQL: ``connectors.postgres_changes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Position:
    """A place in the change stream. MySQL/MariaDB: the binary log's file and the byte offset
    of the next event; PostgreSQL: the job's replication slot and an LSN (as an integer)."""

    file: str
    offset: int

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "offset": self.offset}


@dataclass(frozen=True)
class RowChange:
    table: str  # the source table's name (in the followed schema)
    op: str  # insert | update | delete
    before: dict[str, Any] | None  # update and delete: the row as it was
    after: dict[str, Any] | None  # insert and update: the row as it is now


@dataclass(frozen=True)
class Commit:
    position: Position  # just after the commit: a follower resumes here
    timestamp: int  # when the source committed (seconds since the epoch)


@dataclass(frozen=True)
class SchemaChange:
    statement: str
    tables: frozenset[str]  # the tables of the followed schema it names
    position: Position  # just after the statement


Change = RowChange | Commit | SchemaChange
