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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from workbench.connectors.binlog_rows import RowImage, row_decoder
from workbench.connectors.binlog_stream import (
    QUERY,
    ROTATE,
    ROWS,
    TABLE_MAP,
    UNREADABLE,
    WRITE_V2,
    XID,
    BinlogStream,
    Event,
)
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
    url: str,
    start: Position,
    tables: Sequence[str],
    *,
    server_id: int | None = None,
    connect: Callable[[], Any] | None = None,
) -> Iterator[RowChange | Commit | SchemaChange]:
    """The changes of ``tables`` (of the URL's database) from ``start`` to the end of the log
    as it is now, in commit order; the stream ends there (call again to read on).
    ``connect`` opens the stream's connection (the source connector's, with its TLS and its
    errors); by default a plain one to the URL's server."""
    import pymysql
    from pymysqlreplication.row_event import (
        DeleteRowsEvent,
        RowsEvent,
        TableMapEvent,
        UpdateRowsEvent,
        WriteRowsEvent,
    )

    database = unquote(urlsplit(url).path.lstrip("/"))
    wanted = set(tables)
    followed: dict[int, _Followed | None] = {}  # table id -> how its rows are read (None: skip)
    library_tables: dict[int, Any] = {}  # the library's TABLE_MAPs, for the rarer row types
    library_rows = {WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent}
    conn = connect() if connect is not None else pymysql.connect(**_settings(url))
    stream = BinlogStream(
        conn, start, server_id or 1_000_000 + zlib.crc32(url.encode()) % 1_000_000
    )
    try:
        for event in stream.events():
            kind = event.type
            if kind in ROWS:
                table = followed.get(_table_id(event, stream))
                if table is None:
                    continue
                op = ROWS[kind]
                start_of_rows = _layout(event, stream, op, table.name)
                if table.decode is None:
                    parsed = stream.library_event(event, library_tables, library_rows)
                    images = _library_images(parsed, op)
                else:
                    images = _images(event, start_of_rows, table.decode, op)
                for before, after in images:
                    yield RowChange(table.name, op, before, after)
            elif kind == XID:
                yield Commit(Position(stream.file, event.next_offset), event.timestamp)
            elif kind == TABLE_MAP:
                table_id = _table_id(event, stream)
                if table_id in followed:  # each transaction maps its tables again
                    continue
                schema, name = _table_map_names(event, stream)
                if schema != database or name not in wanted:
                    followed[table_id] = None
                    continue
                parsed = stream.library_event(event, library_tables, {TableMapEvent})
                decode = row_decoder(parsed.columns, RowsEvent.charset_to_encoding)
                followed[table_id] = _Followed(name, decode)
            elif kind == QUERY:
                statement = _statement(event, stream)
                here = Position(stream.file, event.next_offset)
                if statement.upper() == "COMMIT":  # a transaction of non-transactional tables
                    yield Commit(here, event.timestamp)
                elif statement.upper().startswith(_DDL):
                    named = _named_tables(statement, database)
                    if "*" in named or named & wanted:
                        yield SchemaChange(statement, named, here)
            elif kind == ROTATE:  # the stream has moved on to `stream.file`
                # another file may come from another run of the server (after a crash its
                # last file ends without a rotation of its own), which reuses table ids; each
                # transaction maps its tables again, so forgetting them costs little
                followed.clear()
                library_tables.clear()
            elif kind in UNREADABLE:
                raise ConfigurationError(
                    f"The source's binary log holds {UNREADABLE[kind]} at {stream.file}:"
                    f"{event.next_offset}, which the follower cannot read; turn that setting "
                    "off on the source, then copy again with --follow."
                )
    finally:
        stream.close()


Values = dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Followed:
    name: str
    decode: RowImage | None  # None: the library decodes this table's rows


def _table_id(event: Event, stream: BinlogStream) -> int:
    if stream.post_header_length(event.type, 8) == 6:  # MySQL before 5.1.4: 4-byte ids
        return int.from_bytes(event.body[:4], "little")
    return int.from_bytes(event.body[:6], "little")


def _table_map_names(event: Event, stream: BinlogStream) -> tuple[str, str]:
    """A TABLE_MAP's schema and table: length-prefixed, NUL-ended names."""
    body = event.body
    pos = stream.post_header_length(TABLE_MAP, 8)
    schema = body[pos + 1 : pos + 1 + body[pos]].decode()
    pos += 2 + body[pos]
    return schema, body[pos + 1 : pos + 1 + body[pos]].decode()


def _statement(event: Event, stream: BinlogStream) -> str:
    """A QUERY event's statement: after the post-header (thread, seconds, length of the
    default database, error code, length of the status variables), those variables and the
    NUL-ended database name."""
    body = event.body
    post = stream.post_header_length(QUERY, 13)
    schema_length, variables = body[8], int.from_bytes(body[11:13], "little")
    return body[post + variables + schema_length + 1 :].decode("utf-8", "replace").strip()


def _lenenc(body: bytes, pos: int) -> tuple[int, int]:
    first = body[pos]
    if first < 251:
        return first, pos + 1
    size = {252: 2, 253: 3, 254: 8}[first]
    return int.from_bytes(body[pos + 1 : pos + 1 + size], "little"), pos + 1 + size


Images = list[tuple[Values | None, Values | None]]


def _layout(event: Event, stream: BinlogStream, op: str, table: str) -> int:
    """Where a rows event's first row starts, once its images are known to hold every column.
    After the post-header (table id, flags; version 2 adds extra data whose length counts its
    own two bytes) come the column count and which columns each image holds: an image of some
    of them (binlog_row_image=MINIMAL or NOBLOB) would overwrite the others with nothing."""
    body = event.body
    version_2 = event.type >= WRITE_V2
    pos = stream.post_header_length(event.type, 10 if version_2 else 8)
    if version_2:
        pos += int.from_bytes(body[pos - 2 : pos], "little") - 2
    count, pos = _lenenc(body, pos)
    width = (count + 7) // 8
    every = (1 << count) - 1
    for _ in range(2 if op == "update" else 1):
        if int.from_bytes(body[pos : pos + width], "little") & every != every:
            raise ConfigurationError(
                f"The source logged a change of {table} with some of its columns only "
                "(binlog_row_image is MINIMAL or NOBLOB): the follower would lose the others. "
                "Set binlog_row_image=FULL on the source (`workbench doctor --follow`), then "
                "copy again with --follow."
            )
        pos += width
    return pos


def _images(event: Event, pos: int, decode: RowImage, op: str) -> Images:
    """(before, after) of each row of a rows event from ``pos``: a write has no before, a
    delete no after."""
    body = event.body
    rows: Images = []
    end = len(body)
    while pos < end:
        values, pos = decode(body, pos)
        if op == "update":
            after, pos = decode(body, pos)
            rows.append((values, after))
        elif op == "insert":
            rows.append((None, values))
        else:
            rows.append((values, None))
    return rows


def _library_images(event: Any, op: str) -> Images:
    """The library's rows, with its SET and GEOMETRY values as the copy reads them: a SET as
    its members in definition order joined by commas ('' when empty, where the library says
    None), as a SELECT returns it; a geometry as its WKB (``ST_AsBinary``), without the SRID
    that MySQL stores before it."""
    special = [(c.name, c) for c in event.columns if c.type in (_SET, _GEOMETRY)]

    def selected(values: Values | None, nones: Mapping[str, str]) -> Values | None:
        if values is None or not special:
            return values
        for name, column in special:
            value = values.get(name)
            if column.type == _GEOMETRY:
                values[name] = None if value is None else value[4:]
            elif value is not None:
                values[name] = ",".join(m for m in column.set_values if m in value)
            elif nones.get(name) == _EMPTY_SET:
                values[name] = ""
        return values

    if op == "update":
        return [(selected(r["before_values"], r.get("before_none_sources", {})),
                 selected(r["after_values"], r.get("after_none_sources", {})))
                for r in event.rows]  # fmt: skip
    if op == "insert":
        return [(None, selected(r["values"], r.get("none_sources", {}))) for r in event.rows]
    return [(selected(r["values"], r.get("none_sources", {})), None) for r in event.rows]


_SET, _GEOMETRY, _EMPTY_SET = 248, 255, "empty set"  # the library's FIELD_TYPE, NONE_SOURCE
