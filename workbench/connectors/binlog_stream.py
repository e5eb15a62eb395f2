"""A MySQL/MariaDB binary log, streamed as a replica streams it and framed by the workbench.

python-mysql-replication wraps every event in several objects (a packet wrapper, an event
object, a table lookup) before a row is decoded; with one row per event that framing cost the
follower more than half of its reading time. Here the follower asks for the log itself
(``COM_BINLOG_DUMP``, non-blocking: the server ends the stream where its log ends now), checks
each event's CRC32, and gets each event as its type, timestamp, next position and body bytes.
Rows events are decoded by ``binlog_rows``; the few events whose layout is long to parse
(TABLE_MAP's column metadata, rows of the rarer types) are still handed to the library, which
parses them from the same packet (:meth:`BinlogStream.library_event`).
Protocol: https://mariadb.com/kb/en/com_binlog_dump/ and
https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from workbench.connectors.changes import Position
from workbench.errors import CannotConnectError, ConfigurationError

# event types (binlog_event.h; MariaDB's log_event.h)
QUERY, STOP, ROTATE, FORMAT_DESCRIPTION, XID, TABLE_MAP = 2, 3, 4, 15, 16, 19
WRITE_V1, UPDATE_V1, DELETE_V1, WRITE_V2, UPDATE_V2, DELETE_V2 = 23, 24, 25, 30, 31, 32
ROWS = {WRITE_V1: "insert", UPDATE_V1: "update", DELETE_V1: "delete",
        WRITE_V2: "insert", UPDATE_V2: "update", DELETE_V2: "delete"}  # fmt: skip
# events this reader cannot read: MySQL's partial JSON updates, MariaDB's compressed
# statements and rows (log_bin_compress); skipping them would lose changes silently
UNREADABLE = {
    39: "a partial JSON update (binlog_row_value_options=PARTIAL_JSON)",
    # its rows come before its PREPARE; XA COMMIT or XA ROLLBACK decides them later, apart
    38: "an XA transaction (XA PREPARE), whose outcome is decided after its rows",
} | {t: "compressed events (MariaDB's log_bin_compress=ON)" for t in range(165, 172)}
COM_BINLOG_DUMP = 0x12
_HEADER = struct.Struct("<IBIIIH")  # timestamp, type, server id, size, next position, flags
_DUMP = struct.Struct("<IHI")  # position, flags, server id (then the file's name)
_NON_BLOCK = 0x01
_LOG_GONE = 1236  # ER_MASTER_FATAL_ERROR_READING_BINLOG


@dataclass(frozen=True, slots=True)
class Event:
    type: int
    timestamp: int
    next_offset: int  # where the next event starts in the current file (0: not in a file)
    body: bytes  # after the 19-byte header, without the checksum
    packet: Any  # the pymysql packet, unread, for the library's parsers


class BinlogStream:
    """The events of a server's binary log from ``start`` to its end as it is now."""

    def __init__(self, conn: Any, start: Position, server_id: int) -> None:
        """``conn``: a new pymysql connection to the server (the source connector's, with its
        TLS settings), given over to the stream."""
        import pymysql

        self.start = start
        self.file = start.file  # the log file the events come from now (rotations move it)
        self.conn = conn
        server = str(self.conn.get_server_info())
        self.dbms = "mariadb" if "MariaDB" in server else "mysql"
        self.version = tuple(int(p) for p in server.split("-")[0].split(".")[:3] if p.isdigit())
        # the library's parsers ask their "control connection" for the charset and server kind
        self.conn._get_dbms = lambda: self.dbms
        with self.conn.cursor() as cur:
            cur.execute("SELECT @@global.binlog_checksum")
            row = cur.fetchone()
            self.checksum = row is not None and str(row[0]).upper() != "NONE"
            if self.checksum:  # a replica says it can check them, else the server refuses
                cur.execute("SET @master_binlog_checksum = @@global.binlog_checksum")
            # column names and charsets come in TABLE_MAP only with binlog_row_metadata=FULL
            # (MySQL 8, MariaDB 10.5 and newer; `workbench doctor --follow` asks for it)
            try:
                cur.execute("SELECT @@global.binlog_row_metadata")
                row = cur.fetchone()
            except pymysql.err.OperationalError:  # an older server: no such variable
                row = None
            self.full_metadata = row is not None and str(row[0]).upper() == "FULL"
            # MariaDB: send its GTID events as they are (a replica of capability < 4 gets
            # dummy events in their place)
            cur.execute("SET @mariadb_slave_capability = 4")
        self.post_header: bytes = b""  # per event type, from FORMAT_DESCRIPTION
        # pymysql has no public call for a replication command; this is its own framing
        self.conn._execute_command(
            COM_BINLOG_DUMP,
            _DUMP.pack(start.offset, _NON_BLOCK, server_id) + start.file.encode(),
        )

    def events(self) -> Iterator[Event]:
        import pymysql

        read_packet: Callable[[], Any] = self.conn._read_packet
        tail = 4 if self.checksum else 0
        while True:
            try:
                packet = read_packet()
            except pymysql.err.OperationalError as exc:
                if exc.args and exc.args[0] == _LOG_GONE:
                    raise ConfigurationError(
                        f"The source no longer holds its binary log at {self.file} (or cannot read "
                        f"it): {exc.args[1]}. The changes since that position cannot be "
                        "followed (a log purged before the follower read it: raise "
                        "binlog_expire_logs_seconds / expire_logs_days). Copy again with "
                        "--follow."
                    ) from exc
                raise CannotConnectError(
                    f"The source's binary log stream broke off in {self.file} ({exc}): what was "
                    "applied stays applied with its position; run the follower again once "
                    "the source is reachable."
                ) from exc
            data: bytes = packet.get_all_data()
            if data[0] == 0xFE and len(data) < 9:  # EOF: the end of the log as it is now
                return
            if data[0] != 0:
                continue
            timestamp, kind, _, size, next_offset, _ = _HEADER.unpack_from(data, 1)
            if size != len(data) - 1 or (
                tail and zlib.crc32(memoryview(data)[1:-4]) != int.from_bytes(data[-4:], "little")
            ):
                raise ConfigurationError(
                    f"An event of the source's binary log ({self.file}, before offset "
                    f"{next_offset}) is truncated or failed its CRC32 check: the log or the "
                    "connection corrupted it. Nothing of it was applied; run the follower again "
                    "(it resumes before that event's transaction)."
                )
            if kind == ROTATE:
                self.file = data[28 : len(data) - tail].decode()
            elif kind == FORMAT_DESCRIPTION:
                # binlog version 2, server version 50, created 4, header length 1, then one
                # post-header length per event type and the checksum algorithm's byte
                self.post_header = data[20 + 57 : len(data) - tail - 1]
            yield Event(kind, timestamp, next_offset, data[20 : len(data) - tail], packet)

    def post_header_length(self, kind: int, default: int) -> int:
        return self.post_header[kind - 1] if kind - 1 < len(self.post_header) else default

    def library_event(self, event: Event, tables: dict[int, Any], allowed: set[type]) -> Any:
        """The library's event object for ``event`` (TABLE_MAP fills ``tables``), or None
        when the library skips it."""
        from pymysqlreplication.packet import BinLogPacketWrapper

        wrapped = BinLogPacketWrapper(
            event.packet,
            tables,
            self.conn,
            self.version,
            self.checksum,
            allowed,
            None,
            None,
            None,
            None,
            True,  # freeze_schema: a table id names one definition while the log is read
            False,
            False,
            self.full_metadata,  # read the column names and charsets TABLE_MAP holds
            False,
            post_header_lengths=list(self.post_header) or None,
        )
        return wrapped.event

    def close(self) -> None:
        self.conn.close()
