"""A MySQL/MariaDB source's row changes, read from its binary log (python-mysql-replication).

The follower (``engine.follow``) needs, in source commit order: each row change (insert,
update with the row before and after, delete) of the followed tables, each commit with the
position just after it (where a resumed follower starts again), and each statement that
changes a followed table's definition. The server must log rows (``binlog_format=ROW``) with
every column (``binlog_row_image=FULL``) and their names (``binlog_row_metadata=FULL``);
``workbench doctor --follow`` names what is missing.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from workbench.connectors.changes import Commit, Position, RowChange, SchemaChange
from workbench.errors import ConfigurationError


def current_position(connector: Any) -> Position:
    """Where the server's binary log ends now (``SHOW MASTER STATUS``)."""
    rows = connector.run("SHOW MASTER STATUS")
    if not rows:
        raise ConfigurationError(
            "The source writes no binary log (SHOW MASTER STATUS is empty): start it with "
            "--log-bin and binlog_format=ROW to follow its changes (`workbench doctor --follow`)"
        )
    return Position(str(rows[0][0]), int(rows[0][1]))


def _settings(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 3306,
        "user": unquote(parts.username or "root"),
        "passwd": unquote(parts.password or ""),
    }


def _named_tables(statement: str, database: str) -> frozenset[str]:
    """The tables of ``database`` a DDL statement names (unqualified names count as it)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(statement, read="mysql")
    except sqlglot.errors.ParseError:
        return frozenset({"*"})  # unreadable DDL: treat it as touching every table
    return frozenset(t.name for t in tree.find_all(exp.Table) if t.db in ("", database))


_DDL = ("ALTER", "DROP", "RENAME", "TRUNCATE", "CREATE")


def read_changes(
    url: str, start: Position, tables: Sequence[str], *, server_id: int | None = None
) -> Iterator[RowChange | Commit | SchemaChange]:
    """The changes of ``tables`` (of the URL's database) from ``start`` to the end of the log
    as it is now, in commit order; the stream ends there (call again to read on)."""
    from pymysqlreplication import BinLogStreamReader
    from pymysqlreplication.event import QueryEvent, XidEvent
    from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

    database = unquote(urlsplit(url).path.lstrip("/"))
    wanted = set(tables)
    stream = BinLogStreamReader(
        connection_settings=_settings(url),
        server_id=server_id or 1_000_000 + zlib.crc32(url.encode()) % 1_000_000,
        resume_stream=True,
        log_file=start.file,
        log_pos=start.offset,
        blocking=False,
        # no only_schemas: a DDL statement run from another default database names ours
        # only in its text, and the reader would drop it
        only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent, XidEvent, QueryEvent],
    )
    try:
        for event in stream:
            here = Position(stream.log_file, int(event.packet.log_pos))
            if isinstance(event, XidEvent):
                yield Commit(here, int(event.timestamp))
            elif isinstance(event, QueryEvent):
                statement = str(event.query).strip()
                if statement.upper().startswith(_DDL):
                    named = _named_tables(statement, database)
                    if "*" in named or named & wanted:
                        yield SchemaChange(statement, named, here)
            elif event.schema == database and event.table in wanted:
                for row in event.rows:
                    if isinstance(event, WriteRowsEvent):
                        yield RowChange(event.table, "insert", None, row["values"])
                    elif isinstance(event, UpdateRowsEvent):
                        yield RowChange(
                            event.table, "update", row["before_values"], row["after_values"]
                        )
                    else:
                        yield RowChange(event.table, "delete", row["values"], None)
    finally:
        stream.close()
