"""MySQL and MariaDB connector.

Drivers, chosen by measurement (``benchmarks/mysql_read_drivers.py``): catalog queries, counts,
split points and ``test()`` use PyMySQL (bound parameters, clear error numbers, MySQL 8
``caching_sha2_password`` through ``cryptography``); partition reads use connectorx's Arrow
stream, about 4x faster than mysqlclient and 10x faster than PyMySQL on 1M rows, with memory
bounded by one batch. connectorx cannot bind parameters, so partition bounds are rendered as
literals by :func:`literal` (hex strings: no quoting or escaping of values at all).

TLS, one setting for both drivers (:class:`TlsSettings`, from the URL's query): ``ssl_mode``
DISABLED, PREFERRED (the default), REQUIRED, VERIFY_CA or VERIFY_IDENTITY, and ``ssl_ca`` (a
PEM file; alone it means VERIFY_CA). PyMySQL gets them as its ``ssl_*`` arguments, connectorx
(0.4.6 or newer) as ``ssl-mode``/``ssl-ca`` over TCP (``prefer_socket=false``: the reads go to
the host and port of the URL, encrypted, never over the server's Unix socket instead). Under
PREFERRED the bulk reads are encrypted exactly when the catalog connection is.

Value contract of :meth:`MySQLConnector.read_partition` (no caller expression): integers as
Arrow ints (unsigned as uint8..uint64, exact to 18446744073709551615), float/double as
float32/float64, decimal and time as text (exact: decimal(65,30); time up to 838:59:59, valid
PostgreSQL interval input), date/datetime as date32/timestamp[us], timestamp as
timestamp[us, UTC] (the session runs in UTC), year as int16, char/text/enum/set/json as
strings (set as "a,b"), binary/blob/bit as binary (bit big-endian), geometry as WKB.
Zero dates ('0000-00-00', '2024-00-10') cannot be Arrow dates: reading one raises
:class:`InvalidSourceValueError` unless the type plan's read expression (``zero_dates="null"``)
turns them into NULL first.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import socket
import ssl
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote, urlencode

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workbench.connectors import splitting
from workbench.connectors.base import (
    Capabilities,
    ConnectionTest,
    Connector,
    Partition,
    ServerAdvice,
    TextChunk,
    TextField,
)
from workbench.connectors.changes import Change, Position
from workbench.connectors.dialect import HLL_BITS, ChecksumSql, ProfileSql, SampleSql, SqlDialect
from workbench.connectors.mysql_catalog import introspect
from workbench.connectors.mysql_text import counted, line_select
from workbench.connectors.sqltext import (
    partition_predicate,
    percent_safe,
    quote_ident,
    select_list,
    table_ref,
    where,
)
from workbench.errors import (
    AuthenticationError,
    CannotConnectError,
    CatalogPermissionError,
    DatabaseMissingError,
    DriverMissingError,
    InvalidInputError,
    InvalidSourceValueError,
    SourceQueryError,
    TlsError,
    UnsupportedError,
    WorkbenchError,
)
from workbench.schema.model import DatabaseSchema, Table
from workbench.schema.types.mysql import zero_date_count_sql
from workbench.urls import mask_text, mask_url, parse_url

log = logging.getLogger(__name__)
_ACCESS_DENIED = (1142, 1143)  # ER_TABLEACCESS_DENIED_ERROR, ER_COLUMNACCESS_DENIED_ERROR

INTEGER_TYPES = {"tinyint", "smallint", "mediumint", "int", "integer", "bigint"}
GEOMETRY_TYPES = {
    "geometry",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
    "geomcollection",
}
SESSION = ["SET time_zone = '+00:00'", "SET NAMES utf8mb4"]
INIT_COMMAND = "SET time_zone = '+00:00'"  # PyMySQL sets the charset itself


def _pymysql() -> ModuleType:
    try:
        import pymysql
    except ImportError as exc:
        raise DriverMissingError(
            "The MySQL driver PyMySQL is not installed: pip install pymysql cryptography "
            "(or pip install 'workbench' with its default extras)"
        ) from exc
    return pymysql


def _connectorx() -> ModuleType:
    # connectorx's connection pool logs each failed attempt to stderr (dozens of lines for a
    # server that went away); the workbench reports the failure itself, once
    os.environ.setdefault("RUST_LOG", "off")
    os.environ["RUST_BACKTRACE"] = "0"  # a reader panic is reported as one typed error
    try:
        import connectorx
    except ImportError as exc:
        raise DriverMissingError(
            "The fast MySQL reader connectorx is not installed: pip install connectorx"
        ) from exc
    return connectorx


CONNECTORX_TLS = (0, 4, 6)  # the first connectorx whose MySQL URLs take ssl-mode and ssl-ca


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


# ssl_mode values (MySQL's names, and libpq's spellings people carry over) -> MySQL's mode
TLS_MODES = {
    "DISABLED": "DISABLED",
    "DISABLE": "DISABLED",
    "PREFERRED": "PREFERRED",
    "PREFER": "PREFERRED",
    "REQUIRED": "REQUIRED",
    "REQUIRE": "REQUIRED",
    "VERIFY_CA": "VERIFY_CA",
    "VERIFY_IDENTITY": "VERIFY_IDENTITY",
    "VERIFY_FULL": "VERIFY_IDENTITY",
}


@dataclass(frozen=True)
class TlsSettings:
    """The URL's TLS settings: ``mode`` is DISABLED, PREFERRED (TLS when the server offers
    it), REQUIRED (encrypted, certificate not checked), VERIFY_CA (signed by ``ca``) or
    VERIFY_IDENTITY (and issued to the URL's host); ``ca`` is a PEM file (None: the system's
    certificate authorities)."""

    mode: str = "PREFERRED"
    ca: str | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> TlsSettings:
        q = {k.lower().replace("-", "_"): str(v) for k, v in query.items()}
        raw = (q.get("ssl_mode") or q.get("sslmode") or "").strip()
        ca = q.get("ssl_ca") or None
        if not raw and q.get("ssl", "").lower() in ("true", "1", "required"):
            raw = "REQUIRED"
        if not raw:
            # as MySQL's own client: a CA given without a mode means "verify against it"
            return cls("VERIFY_CA" if ca else "PREFERRED", ca)
        mode = TLS_MODES.get(raw.upper().replace("-", "_"))
        if mode is None:
            raise InvalidInputError(
                f"Unknown ssl_mode {raw!r} in the MySQL URL; use one of DISABLED, PREFERRED, "
                "REQUIRED, VERIFY_CA or VERIFY_IDENTITY (with ssl_ca=/path/to/ca.pem to verify "
                "against your own certificate authority)"
            )
        return cls(mode, ca)

    @property
    def verifies(self) -> bool:
        return self.mode in ("VERIFY_CA", "VERIFY_IDENTITY")


def driver_safe_expressions(table: Table, names: Sequence[str]) -> dict[str, str]:
    """Expressions for values connectorx cannot deliver exactly (decimal, time, geometry)."""
    out: dict[str, str] = {}
    for name in names:
        if name not in table.column_names:
            continue
        native = table.column(name).native
        q = quote_ident(name, "mysql")
        if native.name in ("decimal", "numeric", "time"):
            out[name] = f"CAST({q} AS CHAR)"
        elif native.name in GEOMETRY_TYPES:
            out[name] = f"ST_AsBinary({q})"
    return out


def literal(value: Any) -> str:
    """A MySQL literal for a partition bound (connectorx has no bound parameters)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"X'{bytes(value).hex()}'" if bytes(value) else "''"
    if isinstance(value, str):
        # an introducer + hex: no quote or backslash escaping whatever the sql_mode
        return f"_utf8mb4 X'{value.encode().hex()}'" if value else "''"
    if isinstance(value, dt.timedelta):  # a TIME: str() would say "-1 day, 12:00:00"
        micros = value // dt.timedelta(microseconds=1)
        seconds, fraction = divmod(abs(micros), 1_000_000)
        hours, rest = divmod(seconds, 3600)
        sign = "-" if micros < 0 else ""
        return f"'{sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}.{fraction:06d}'"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return f"'{value}'"
    raise InvalidInputError(f"Cannot use {type(value).__name__} value {value!r} as a key bound")


def _member_numbers(
    table: Table, key_columns: Sequence[str], point: tuple[Any, ...]
) -> tuple[Any, ...]:
    """A split point with ENUM and SET members as their numbers: ORDER BY sorts those
    columns by number (an ENUM's declared position) while ``k >= 'label'`` compares text,
    so text bounds cut ranges that overlap (rows copied twice); ``k >= 2`` compares numbers.
    """
    out = list(point)
    for i, name in enumerate(key_columns):
        native = table.column(name).native
        value = out[i]
        if native.name not in ("enum", "set") or not isinstance(value, str):
            continue
        members = {m: k for k, m in enumerate(native.values)}
        if native.name == "enum":  # '' (a value strict mode refused) is 0, the first is 1
            out[i] = members[value] + 1 if value in members else 0
        else:
            out[i] = sum(1 << members[m] for m in value.split(",") if m in members)
    return tuple(out)


def _bounds(partition: Partition) -> str:
    """The partition's WHERE clause (or nothing) with its bounds inlined as safe literals."""
    pred, params = partition_predicate(partition, "mysql", placeholder="\x00")
    pieces = pred.split("\x00")
    pred = "".join(p + (literal(v) if i < len(params) else "") for i, (p, v) in
                   enumerate(zip(pieces, [*params, None], strict=True)))  # fmt: skip
    return where(pred)


# server errors about the query itself, not the connection: retrying will not help
# (unknown column, syntax, charset and collation errors, a function the server lacks,
# values a function refuses)
QUERY_ERRORS = frozenset(
    {1054, 1064, 1115, 1253, 1267, 1270, 1271, 1300, 1301, 1305, 1366, 1367, 1411, 1582,
     1583, 1584, 1630, 1690, 4078}
)  # fmt: skip


def map_error(exc: Exception, url: str, database: str | None) -> WorkbenchError:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    text = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    if code is None:  # connectorx: "... MySqlError { ERROR 1045 (28000): Access denied ... }"
        found = re.search(r"\bERROR (\d{4})\b", text)
        code = int(found.group(1)) if found else None
    where_ = mask_url(url)
    if code == 1045:
        return AuthenticationError(
            f"Cannot connect to {where_}: password rejected for this user; update the "
            "connection's user or secret",
            url=where_,
        )
    if code == 1049:
        return DatabaseMissingError(
            f"Cannot connect to {where_}: database {database!r} does not exist; create it or "
            "correct the database name",
            url=where_,
            database=database,
        )
    if code in (1044, 1142, 1143, 1227):
        return CatalogPermissionError(
            f"Connected to {where_} but access was denied ({text}); grant the user SELECT on "
            "the database or use a user who has it",
            url=where_,
        )
    if code in QUERY_ERRORS:
        return SourceQueryError(
            f"{where_} refused a query (MySQL error {code}: {text}); check the table's "
            "type-plan expressions, or report it with the server's version",
            url=where_,
            code=code,
        )
    if "max_allowed_packet" in text:  # connectorx: "CodecError { Packet is larger than ... }"
        return SourceQueryError(
            f"A row read from {where_} is larger than the server's max_allowed_packet "
            f"({text}); raise it on the server (SET GLOBAL max_allowed_packet = 1073741824) "
            "and run the job again",
            url=where_,
        )
    if code in (2026, 3159) or "ssl" in text.lower() or "tls" in text.lower():
        return TlsError(
            f"Cannot connect to {where_}: TLS required by one side and refused or unavailable "
            f"on the other ({text}); align the URL's ssl_mode with the server's TLS setting",
            url=where_,
        )
    return CannotConnectError(
        f"Cannot connect to {where_}: {text}; check host and port and that the server is "
        "running and reachable",
        url=where_,
    )


# --- the SQL pushed down to MySQL/MariaDB (profiling, sampling, fingerprints, checksums) ------

# time (and time(fsp)) in microseconds, exactly, from integer parts: MariaDB 10.11's
# TIME_TO_SEC already holds the fraction (MICROSECOND counted it twice). HOUR..MICROSECOND are
# magnitudes; the sign comes from a comparison ('-00:00:00.5' has 0 whole seconds)
_TIME_US = (
    "CAST(IF({e} < TIME '00:00:00', -1, 1) * ((HOUR({e}) * 3600 + MINUTE({e}) * 60"
    " + SECOND({e})) * 1000000 + MICROSECOND({e})) AS CHAR)"
)


def _row_text(parts: Sequence[tuple[str, bool]]) -> str:
    sep, marker = "CHAR(31 USING utf8mb4)", "CHAR(30 USING utf8mb4)"
    rendered = [f"COALESCE({p}, {marker})" if nullable else p for p, nullable in parts]
    return f"CONCAT_WS({sep}, " + ", ".join(rendered) + ")"


def _special(category: str, expr: str, pg_type: str, is_utf8: bool) -> str | None:
    return expr if category == "text" and is_utf8 else None  # already UTF-8: no CONVERT


def _category(pg_type: str, native: str) -> str | None:
    if pg_type.endswith("[]") and native.startswith("set"):
        return "set"
    if native.startswith("year") or "zerofill" in native:
        return "year"  # printed padded (YEAR 0 as '0000', a ZEROFILL 42 as '000042'): + 0
    return None


def _catalog_signal(table: Table) -> tuple[str, list[Any]]:
    return (
        "SELECT DATA_LENGTH, UPDATE_TIME, AUTO_INCREMENT FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
        [table.schema, table.name],
    )


DIALECT = SqlDialect(
    name="mysql",
    placeholder="%s",
    profile=ProfileSql(
        text_length="CHAR_LENGTH({})",
        byte_length="LENGTH({})",
        as_float="(({}) + 0E0)",
        as_text="CAST({} AS CHAR)",
        stddev="STDDEV_SAMP({})",
        hll_hash="CAST(CONV(SUBSTRING(MD5({}), 1, 16), 16, 10) AS UNSIGNED)",
        hll_w=f"(({{}}) >> {HLL_BITS})",
        log2="FLOOR(LOG2({}))",
    ),
    sample=SampleSql(random_fraction="RAND()", shuffle="RAND()"),
    catalog_signal=_catalog_signal,
    checksum=ChecksumSql(
        canonical={
            "int": "CAST({e} AS CHAR)",
            "year": "({e} + 0)",
            "numeric": "CAST({e} AS CHAR)",
            "text": "CONVERT({e} USING utf8mb4)",
            "set": "CONVERT({e} USING utf8mb4)",
            "bool": "CASE WHEN {e} IS NULL THEN NULL WHEN {e} <> 0 THEN 't' ELSE 'f' END",
            "date": "DATE_FORMAT({e}, '%Y-%m-%d')",
            "timestamp": "DATE_FORMAT({e}, '%Y-%m-%d %H:%i:%s.%f')",
            "timestamptz": "DATE_FORMAT({e}, '%Y-%m-%d %H:%i:%s.%f')",  # session zone is UTC
            "interval": _TIME_US,
            "bytea": "HEX({e})",
            "bit": "CAST({e} + 0 AS CHAR)",
            "inet": "CAST({e} AS CHAR)",  # MariaDB's INET6 and INET4
        },
        implicit=frozenset({"int", "numeric", "date"}),
        row_text=_row_text,
        hash_sum="COALESCE(SUM(CAST(CONV(SUBSTRING({hex}, 1, 15), 16, 10) AS UNSIGNED)), 0)",
        digests={"md5": "MD5({row})", "sha224": "SHA2({row}, 224)"},
        # TPC-H lineitem, 6 million rows of 16 values: MD5 5.1 s over the scan, SHA-224 0.5
        # s; PostgreSQL's sha224 costs 0.3 s more than its md5
        row_digest="sha224",
        double="CAST({e} AS DOUBLE)",  # MySQL sums FLOAT in double already; said explicitly
        special=_special,
        category=_category,
    ),
)


def binlog_problems(
    settings: Mapping[str, str], grants: Sequence[str], copy_seconds: float | None = None
) -> list[ServerAdvice]:
    """What a MySQL/MariaDB server's settings and a login's grants lack for following its
    binlog: each missing piece named with the value to set (``workbench doctor --follow``)."""
    problems = []
    if settings.get("log_bin", "OFF").upper() != "ON":
        problems.append(
            ServerAdvice(
                "log_bin",
                settings.get("log_bin", "OFF"),
                "ON (start the server with --log-bin)",
                "changes are read from the binary log, which is off",
            )
        )
    if settings.get("binlog_format", "").upper() != "ROW":
        problems.append(
            ServerAdvice(
                "binlog_format",
                settings.get("binlog_format", "unknown"),
                "ROW",
                "only row events say which rows changed (statements would have to be re-run)",
            )
        )
    if settings.get("binlog_row_image", "FULL").upper() != "FULL":
        problems.append(
            ServerAdvice(
                "binlog_row_image",
                settings["binlog_row_image"],
                "FULL",
                "updates and deletes must carry every column to be applied by key",
            )
        )
    metadata = settings.get("binlog_row_metadata")  # MySQL 8.0.14+, MariaDB 10.5+
    if metadata is not None and metadata.upper() != "FULL":
        problems.append(
            ServerAdvice(
                "binlog_row_metadata",
                metadata,
                "FULL",
                "row events must name their columns for the follower to map them",
            )
        )
    kept = _binlog_retention_seconds(settings)
    wanted = max(7 * 86400.0, 3 * (copy_seconds or 0.0))
    if kept is not None and kept < wanted:
        problems.append(
            ServerAdvice(
                "binlog_expire_logs_seconds",
                f"{kept:.0f}",
                f"{wanted:.0f} or more",
                "the binlog from the copy's start must still be there when following begins",
            )
        )
    text = " ".join(grants).upper().replace("`", "")
    everything = "ALL PRIVILEGES ON *.*" in text
    if not everything and "REPLICATION SLAVE" not in text:
        problems.append(
            ServerAdvice(
                "privilege REPLICATION SLAVE",
                "not granted",
                "GRANT REPLICATION SLAVE ON *.* TO the login",
                "reading the binlog needs it",
            )
        )
    monitor = ("REPLICATION CLIENT", "BINLOG MONITOR", "SUPER")
    if not everything and not any(m in text for m in monitor):
        problems.append(
            ServerAdvice(
                "privilege REPLICATION CLIENT",
                "not granted",
                "GRANT REPLICATION CLIENT ON *.* TO the login (BINLOG MONITOR on MariaDB 10.5+)",
                "the binlog position is read at the copy's start",
            )
        )
    return problems


def _binlog_retention_seconds(settings: Mapping[str, str]) -> float | None:
    """How long binlogs are kept (None: for ever)."""
    seconds = float(settings.get("binlog_expire_logs_seconds") or 0)
    days = float(settings.get("expire_logs_days") or 0)
    kept = seconds or days * 86400
    return kept or None


# (server URL without its password, TLS settings) -> whether PREFERRED negotiated TLS
_NEGOTIATED: dict[tuple[str, TlsSettings], bool] = {}


class MySQLConnector(Connector):
    kind = "mysql"
    capabilities = Capabilities(dialect="mysql")
    dialect = DIALECT
    logs_cascaded_rows = False  # the engine applies foreign keys' actions unlogged

    def __init__(
        self, url: str, *, connect_timeout: float = 10.0, options: dict[str, Any] | None = None
    ):
        super().__init__(url, connect_timeout=connect_timeout, options=options)
        self.parsed = parse_url(url)
        self.database = self.parsed.database or None
        self.tls = TlsSettings.from_query(self.parsed.query)  # an unknown ssl_mode fails here
        self._conn: Any = None
        self._negotiated: bool | None = None  # PREFERRED: did the catalog connection get TLS?

    # --- connections ---------------------------------------------------------------
    def _ca_file(self) -> str | None:
        ca = self.tls.ca
        if ca is not None and not Path(ca).is_file():
            raise TlsError(
                f"Cannot connect to {mask_url(self.url)}: the certificate authority file "
                f"ssl_ca={ca} does not exist on this machine; give a readable PEM file (every "
                "machine that reads from the server needs it at this path)",
                url=mask_url(self.url),
            )
        return ca

    def _ssl_kwargs(self) -> dict[str, Any]:
        """PyMySQL's TLS arguments for the URL's :class:`TlsSettings`."""
        tls = self.tls
        if tls.mode == "DISABLED":
            return {"ssl_disabled": True}
        if tls.verifies:
            return {
                "ssl_ca": self._ca_file(),
                "ssl_verify_cert": True,
                "ssl_verify_identity": tls.mode == "VERIFY_IDENTITY",
            }
        if tls.mode == "REQUIRED":
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return {"ssl": ctx}
        return {}  # PREFERRED: PyMySQL's default, TLS when the server offers it

    def _connect(self, **kw: Any) -> Any:
        pymysql = _pymysql()
        try:
            conn = self._pymysql_connect(self._ssl_kwargs(), **kw)
        except pymysql.err.MySQLError as exc:
            raise self._connect_error(exc) from exc
        return conn

    def _pymysql_connect(self, ssl_kwargs: dict[str, Any], **kw: Any) -> Any:
        return _pymysql().connect(
            host=self.parsed.host or "127.0.0.1",
            port=self.parsed.port or 3306,
            user=self.parsed.username or "root",
            password=self.parsed.password or "",
            database=self.database,
            charset="utf8mb4",
            connect_timeout=self.connect_timeout,
            autocommit=True,
            init_command=INIT_COMMAND,
            **ssl_kwargs,
            **kw,
        )

    def _connect_error(self, exc: Exception) -> Exception:
        """The typed error for a failed connection (see :meth:`_diagnose`)."""
        return self._diagnose(map_error(exc, self.url, self.database))

    def _diagnose(self, error: Exception) -> Exception:
        """MariaDB refuses an unencrypted login (require_secure_transport=ON, or a user created
        REQUIRE SSL) with "Access denied" (1045), as it does a wrong password. Under
        ssl_mode=DISABLED the same login is tried once more over TLS to tell the two apart (no
        weaker than the unencrypted attempt): a TlsError when only the TLS login succeeds."""
        if not isinstance(error, AuthenticationError) or self.tls.mode != "DISABLED":
            return error
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            self._pymysql_connect({"ssl": ctx}).close()
        except Exception:
            return error  # refused over TLS too: the password (or user) is wrong
        where_ = mask_url(self.url)
        return TlsError(
            f"Cannot connect to {where_}: the server refuses unencrypted connections for this "
            "user (require_secure_transport=ON, or the user was created REQUIRE SSL) and the "
            "URL says ssl_mode=DISABLED; use ssl_mode=REQUIRED, or ssl_mode=VERIFY_CA with "
            "ssl_ca=/path/to/ca.pem to check the server's certificate",
            url=where_,
        )

    @property
    def conn(self) -> Any:
        if self._conn is None or not self._conn.open:
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def free_connections(self) -> int | None:
        # an account's own limit (CREATE USER ... WITH MAX_USER_CONNECTIONS 4) counts too:
        # partitions over it were refused and retried until others ended
        row = self.run(
            "SELECT @@max_connections - (SELECT COUNT(*) FROM information_schema.PROCESSLIST),"
            " @@max_user_connections, (SELECT COUNT(*) FROM information_schema.PROCESSLIST"
            " WHERE USER = SUBSTRING_INDEX(CURRENT_USER(), '@', 1))"
        )
        free, per_user, own = (int(v) for v in row[0])
        if per_user > 0:
            free = min(free, per_user - own)
        return max(0, free)

    def load_advice(self) -> list[ServerAdvice]:
        """As a source: every table is scanned (twice with validation) through the pool."""
        rows = self.run("SELECT @@innodb_buffer_pool_size")
        size = int(rows[0][0]) if rows and rows[0][0] is not None else None
        if size is None or size >= 1 << 30:
            return []
        return [
            ServerAdvice(
                "innodb_buffer_pool_size",
                f"{size >> 20}MB",
                "half to two thirds of the server's memory",
                "the copy and its validation scan each table; a small pool rereads it from disk",
            )
        ]

    def make_read_only(self) -> None:
        """read_only stops every login without the admin privilege (applications' logins)."""
        self.run("SET GLOBAL read_only = ON")

    def start_change_stream(self, tables: Sequence[Table], job_key: str) -> Position:
        from workbench.connectors import mysql_binlog

        return mysql_binlog.current_position(self)

    def read_changes(self, start: Position, tables: Sequence[Table]) -> Iterator[Change]:
        from workbench.connectors import mysql_binlog

        # the stream's own connection, with this connector's TLS settings and errors
        return mysql_binlog.read_changes(
            self.url, start, [t.name for t in tables], connect=self._connect
        )

    def change_stream_problems(
        self, copy_seconds: float | None = None
    ) -> list[ServerAdvice] | None:
        """The binlog a follower reads: on, row-based, full row images, kept longer than the
        copy takes, and a login allowed to read it (see binlog_problems)."""
        names = ("log_bin", "binlog_format", "binlog_row_image", "binlog_row_metadata",
                 "expire_logs_days", "binlog_expire_logs_seconds")  # fmt: skip
        rows = self.run(
            "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES"
            f" WHERE VARIABLE_NAME IN ({', '.join(['%s'] * len(names))})",
            [n.upper() for n in names],
        )
        settings = {str(k).lower(): str(v) for k, v in rows}
        grants = [str(r[0]) for r in self.run("SHOW GRANTS")]
        return binlog_problems(settings, grants, copy_seconds)

    def run(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> list[Any]:
        pymysql = _pymysql()
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql, params)
                return list(cur.fetchall())
        except pymysql.err.OperationalError as exc:
            raise map_error(exc, self.url, self.database) from exc

    def _connectorx_url(self) -> str:
        """connectorx's URL, with the URL's TLS settings in connectorx's spelling."""
        p = self.parsed
        auth = quote(p.username or "root", safe="")
        if p.password:
            auth += ":" + quote(str(p.password), safe="")
        host = f"{p.host or '127.0.0.1'}:{p.port or 3306}"
        base = f"mysql://{auth}@{host}/{quote(self.database or '')}"
        params = self._connectorx_tls()
        return f"{base}?{urlencode(params)}" if params else base

    def _connectorx_tls(self) -> dict[str, str]:
        tls = self.tls
        if tls.mode == "DISABLED":
            return {}
        if tls.mode == "PREFERRED" and not self._encrypted():
            return {}  # the server offers no TLS (or the driver would not use it): as before
        mode = "REQUIRED" if tls.mode == "PREFERRED" else tls.mode
        found = _version(getattr(_connectorx(), "__version__", "0"))
        if found < CONNECTORX_TLS:
            raise DriverMissingError(
                f"Reading from {mask_url(self.url)} over TLS (ssl_mode={tls.mode}) needs "
                f"connectorx {'.'.join(map(str, CONNECTORX_TLS))} or newer, found "
                f"{'.'.join(map(str, found))}: pip install -U 'connectorx>=0.4.6'"
            )
        params = {"ssl-mode": mode}
        if tls.verifies and tls.ca:
            params["ssl-ca"] = self._ca_file() or ""
        # TCP to the URL's host and port: the mysql crate otherwise moves a local connection
        # to the server's Unix socket, where the URL's TLS settings do not apply
        params["prefer_socket"] = "false"
        return params

    def _encrypted(self) -> bool:
        """Whether the catalog connection (PyMySQL) is encrypted: what PREFERRED negotiated.
        Asked once per server and TLS setting in a process (each partition builds its own
        connector, and a TLS handshake loads the CA store: some 50 ms of CPU a partition);
        a connection opened just to ask is closed again."""
        server = (mask_url(self.url), self.tls)
        if self._negotiated is None:
            self._negotiated = _NEGOTIATED.get(server)
        if self._negotiated is None:
            was_open = self._conn is not None and self._conn.open
            try:
                rows = self.run("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            finally:
                if not was_open:
                    self.close()
            self._negotiated = _NEGOTIATED[server] = bool(rows and rows[0][1])
        return self._negotiated

    # --- the interface -------------------------------------------------------------
    def test(self) -> ConnectionTest:
        start = time.perf_counter()
        # PyMySQL's connect_timeout covers the TCP connect only; a server that accepts and
        # then stays silent is bounded by the read timeout
        conn = self._connect(read_timeout=self.connect_timeout)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT VERSION()")
                version = cur.fetchone()[0]
        finally:
            conn.close()
        latency = (time.perf_counter() - start) * 1000
        flavour = "MariaDB" if "mariadb" in version.lower() else "MySQL"
        return ConnectionTest(True, f"{flavour} {version}", round(latency, 2), mask_url(self.url))

    def introspect(
        self, schemas: Sequence[str] | None = None, tables: Sequence[str] | None = None
    ) -> DatabaseSchema:

        return introspect(self, schemas or ([self.database] if self.database else None), tables)

    def unreadable(self, tables: Sequence[Table]) -> list[str]:
        # MariaDB lists every table a login holds any privilege on (INSERT alone will do) and
        # only the columns it may read (a column grant hides the rest: the table would land
        # without them); which grants cover a table (roles, wildcard databases) is the
        # server's to say: ask it, one empty read of every column a table
        pymysql = _pymysql()
        denied = []
        with self.conn.cursor() as cur:
            for table in tables:
                try:
                    cur.execute(f"SELECT * FROM {table_ref(table, 'mysql')} LIMIT 0")
                    cur.fetchall()
                except pymysql.err.MySQLError as exc:
                    if not exc.args or exc.args[0] not in _ACCESS_DENIED:
                        raise map_error(exc, self.url, self.database) from exc
                    denied.append(table.qualified_name + self._readable_part(cur, table))
        return denied

    def _readable_part(self, cur: Any, table: Table) -> str:
        """ " (only some of its columns)" where a column grant lets the login read some."""
        try:
            cur.execute(f"SELECT 1 FROM {table_ref(table, 'mysql')} LIMIT 0")
            cur.fetchall()
        except _pymysql().err.MySQLError:
            return ""
        return " (only some of its columns)"

    def count(self, table: Table, partition: Partition | None = None) -> int:
        pred, params = partition_predicate(partition, "mysql", placeholder="\x00")
        sql = f"SELECT COUNT(*) FROM {table_ref(table, 'mysql')}{where(pred)}"
        return int(self.run(percent_safe(sql), params)[0][0])

    def split_points(
        self, table: Table, key_columns: Sequence[str], parts: int
    ) -> list[tuple[Any, ...]]:
        first = table.column(key_columns[0]).native.name if key_columns else ""

        def sample_from(rows: int, wanted: int) -> str:
            fraction = min(1.0, wanted / rows)
            return f"{table_ref(table, 'mysql')} WHERE RAND() < {fraction:.8f}"

        points = splitting.split_points(
            lambda sql: self.run(sql),
            table,
            key_columns,
            parts,
            "mysql",
            is_integer=first in INTEGER_TYPES,
            sample_from=sample_from,
            sample_threshold=int(self.options.get("sample_threshold", splitting.SAMPLE_THRESHOLD)),
        )
        return [_member_numbers(table, key_columns, p) for p in points]

    def count_zero_dates(self, table: Table) -> dict[str, int]:
        """Per date/datetime/timestamp column, how many zero dates it holds ('0000-00-00',
        '2024-00-10', '2024-05-00'): what ``zero_dates="null"`` turns into NULL."""
        sql = zero_date_count_sql(table)
        if sql is None:
            return {}
        with self.conn.cursor() as cur:
            cur.execute(sql)
            row = cur.fetchone()
            return {d[0]: int(v) for d, v in zip(cur.description, row, strict=True)}

    def partition_sql(
        self,
        table: Table,
        partition: Partition,
        columns: Sequence[str] | None = None,
        expressions: Mapping[str, str] | None = None,
    ) -> tuple[list[str], str]:
        """The partition's SELECT with its bounds inlined as safe literals."""
        names = list(columns) if columns is not None else list(table.column_names)
        defaults = driver_safe_expressions(table, names)
        names, select = select_list(table, "mysql", names, expressions, defaults)
        return names, f"SELECT {select} FROM {table_ref(table, 'mysql')}{_bounds(partition)}"

    def _port_open(self) -> bool:
        return _tcp_open(
            self.parsed.host or "127.0.0.1", int(self.parsed.port or 3306), self.connect_timeout
        )

    def reads_natively(self, table: Table) -> bool:
        return True  # connectorx's Arrow batches

    def can_copy_text(self, table: Table, fields: Sequence[TextField]) -> bool:
        return line_select([table.column(f.source) for f in fields], fields) is not None

    def read_copy_text(
        self, table: Table, partition: Partition, fields: Sequence[TextField], chunk_bytes: int
    ) -> Iterator[TextChunk]:
        """One COPY line per row, rendered by the server (see ``connectors.mysql_text``),
        taken from connectorx's Arrow batches without a copy: the lines are contiguous."""
        columns = [table.column(f.source) for f in fields]
        select = line_select(columns, fields)
        if select is None:  # can_copy_text said no
            raise UnsupportedError(f"{table.qualified_name} cannot be read as COPY text")
        counts = [f.target for c, f in zip(columns, fields, strict=True) if counted(c, f)]
        sql = f"SELECT {select} FROM {table_ref(table, 'mysql')}{_bounds(partition)}"
        for batch in self._arrow_stream(sql, table, partition, max(1024, chunk_bytes // 32)):
            lines = batch.column(0)
            if lines.null_count:  # a value the server could not render (mysql_text)
                raise SourceQueryError(
                    f"{table.qualified_name} ({partition.label}): a row the server could not "
                    "render as COPY text (a value over its max_allowed_packet once escaped)",
                    table=table.qualified_name,
                    partition=partition.label,
                )
            _, offsets, data = lines.buffers()  # large_binary: 64-bit offsets
            bounds = np.frombuffer(offsets, np.int64, len(lines) + 1, lines.offset * 8)
            start, end = int(bounds[0]), int(bounds[-1])
            nulled = {
                name: int(pc.sum(batch.column(1 + i)).as_py() or 0) for i, name in enumerate(counts)
            }
            yield TextChunk(memoryview(data)[start:end], batch.num_rows, nulled)

    def read_partition(
        self,
        table: Table,
        partition: Partition,
        columns: Sequence[str] | None = None,
        batch_rows: int = 50_000,
        expressions: Mapping[str, str] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        names, sql = self.partition_sql(table, partition, columns, expressions)
        utc = {
            n
            for n in names
            if n in table.column_names and table.column(n).native.name == "timestamp"
        }  # the session runs in UTC, also for expressions over a timestamp column
        for batch in self._arrow_stream(sql, table, partition, batch_rows):
            yield _normalize(batch, utc)

    def _arrow_stream(
        self, sql: str, table: Table, partition: Partition, batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        """connectorx's batches of ``sql`` in the workbench's session (UTC, utf8mb4)."""
        cx = _connectorx()
        # connectorx's pool waits 30 s on a server that refuses connections: a bare TCP
        # connect knows in milliseconds (PyMySQL, with its TLS context, cost 50 ms of CPU a
        # partition), and a refusal is then diagnosed by PyMySQL with the typed error and fix
        if not self._port_open():
            self._connect().close()
        try:
            reader = cx.read_sql(
                self._connectorx_url(),
                sql,
                return_type="arrow_stream",
                batch_size=batch_rows,
                pre_execution_query=SESSION,
            )
            yield from reader
        except BaseException as exc:  # connectorx panics are BaseException
            if type(exc).__name__ != "PanicException" and not isinstance(exc, RuntimeError):
                raise
            raise self._diagnose(_read_error(exc, self.url, table, partition)) from exc


def _tcp_open(host: str, port: int, timeout: float) -> bool:
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        return False
    return True


def _normalize(batch: pa.RecordBatch, utc: set[str]) -> pa.RecordBatch:
    """large_* to plain Arrow types; MySQL timestamp columns marked as UTC."""
    arrays, fields = [], []
    for field, array in zip(batch.schema, batch.columns, strict=True):
        t = field.type
        if pa.types.is_large_string(t):
            array = array.cast(pa.string())
        elif pa.types.is_large_binary(t):
            array = array.cast(pa.binary())
        elif field.name in utc and pa.types.is_timestamp(t):
            array = array.cast(pa.timestamp("us", tz="UTC"))
        arrays.append(array)
        fields.append(pa.field(field.name, array.type))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _read_error(exc: BaseException, url: str, table: Table, partition: Partition) -> Exception:
    text = mask_text(str(exc))
    if "NaiveDate" in text and ("0000" in text or "-00" in text):
        return InvalidSourceValueError(
            f"Table {table.qualified_name} ({partition.label}) holds zero dates such as "
            "'0000-00-00' that PostgreSQL cannot store; read it with the type plan's "
            "expressions (zero_dates='null' turns them into NULL and counts them)",
            table=table.qualified_name,
            partition=partition.label,
        )
    # connectorx reports a connection lost mid-read as a panic too ("cx writer failed: ...
    # CodecError { IO error: `Connection reset by peer' }"): the connection, not a value
    lost = any(s in text for s in ("IO error", "Connection reset", "Broken pipe"))
    if isinstance(exc, RuntimeError) or lost:
        cause = exc if isinstance(exc, Exception) else RuntimeError(text)  # a panic: BaseException
        return map_error(cause, url, parse_url(url).database)
    return InvalidSourceValueError(
        f"Reading {table.qualified_name} ({partition.label}) from {mask_url(url)} failed: "
        f"{text}; read the column through the type plan's expression",
        table=table.qualified_name,
        partition=partition.label,
    )
