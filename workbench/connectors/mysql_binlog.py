"""A MySQL/MariaDB source's row changes, read from its binary log (python-mysql-replication).

The follower (``engine.follow``) needs, in source commit order: each row change (insert,
update with the row before and after, delete) of the followed tables, each commit with the
position just after it (where a resumed follower starts again), and each statement that
changes a followed table's definition. The server must log rows (``binlog_format=ROW``) with
every column (``binlog_row_image=FULL``) and their names (``binlog_row_metadata=FULL``);
``workbench doctor --follow`` names what is missing.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from workbench.connectors.binlog_rows import RowImage, row_decoder
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


# DDL that changes a table's rows or shape, whatever the tables' names (RENAME TABLE, MariaDB's
# ALTER ONLINE TABLE ... sqlglot reads some of these as an opaque command naming no table)
_TABLE_DDL = re.compile(
    r"^\s*(ALTER\s+(ONLINE\s+|OFFLINE\s+|IGNORE\s+)*TABLE|RENAME\s+TABLE|TRUNCATE|"
    r"DROP\s+(TEMPORARY\s+)?TABLE|CREATE\s+(OR\s+REPLACE\s+)?(TEMPORARY\s+)?TABLE)\b",
    re.IGNORECASE,
)


def _named_tables(statement: str, database: str) -> frozenset[str]:
    """The tables of ``database`` a DDL statement names (unqualified names count as it);
    ``{"*"}`` for table DDL whose tables cannot be read from it (it may touch any)."""
    import sqlglot
    from sqlglot import exp

    quiet = logging.getLogger("sqlglot")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "unsupported syntax, parsed as a command": handled here
    try:
        tree = sqlglot.parse_one(statement, read="mysql")
    except sqlglot.errors.ParseError:
        tree = None
    finally:
        quiet.setLevel(level)
    tables = [] if tree is None or isinstance(tree, exp.Command) else list(tree.find_all(exp.Table))
    if not tables:  # unreadable, or read as naming no table at all
        return frozenset({"*"}) if _TABLE_DDL.match(statement) else frozenset()
    return frozenset(t.name for t in tables if t.db in ("", database))


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
    decoders: dict[int, RowImage | None] = {}
    stream = BinLogStreamReader(
        connection_settings=_settings(url),
        server_id=server_id or 1_000_000 + zlib.crc32(url.encode()) % 1_000_000,
        resume_stream=True,
        freeze_schema=True,
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
                for before, after in _images(event, decoders):
                    if isinstance(event, WriteRowsEvent):
                        yield RowChange(event.table, "insert", None, after)
                    elif isinstance(event, UpdateRowsEvent):
                        yield RowChange(event.table, "update", before, after)
                    else:
                        yield RowChange(event.table, "delete", before, None)
    finally:
        stream.close()


Values = dict[str, Any]


def _images(event: Any, decoders: dict[int, RowImage | None]) -> list[tuple[Values | None, Values]]:
    """(before, after) of each row of a rows event: a write has no before, a delete's row is
    its before. Decoded by ``binlog_rows`` where the table's types allow, else the library."""
    from pymysqlreplication.row_event import RowsEvent, UpdateRowsEvent, WriteRowsEvent

    if event.table_id not in decoders:  # table ids are fixed while the reader runs
        decoders[event.table_id] = row_decoder(event.columns, RowsEvent.charset_to_encoding)
    decode = decoders[event.table_id]
    if decode is None or not event.complete:
        if isinstance(event, UpdateRowsEvent):
            return [(r["before_values"], r["after_values"]) for r in event.rows]
        if isinstance(event, WriteRowsEvent):
            return [(None, r["values"]) for r in event.rows]
        return [(r["values"], r["values"]) for r in event.rows]
    body = event.packet.read(event.event_size - event.packet.read_bytes)
    first = event.columns_present_bitmap
    rows: list[tuple[Values | None, Values]] = []
    pos = 0
    while pos < len(body):
        values, pos = decode(body, pos, first)
        if isinstance(event, UpdateRowsEvent):
            after, pos = decode(body, pos, event.columns_present_bitmap2)
            rows.append((values, after))
        elif isinstance(event, WriteRowsEvent):
            rows.append((None, values))
        else:
            rows.append((values, values))
    return rows
