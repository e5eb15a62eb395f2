"""PostgreSQL connector (psycopg 3): source and target.

Reads stream through a server-side cursor in ``batch_rows`` steps, so memory is bounded by
one batch. Value contract of :meth:`PostgresConnector.read_partition`: smallint/integer/
bigint/real/double/boolean/text-like/bytea columns arrive as typed Arrow values; every other
type (numeric, dates and times, interval, arrays, json, uuid, enums, domains, ...) and every
caller expression arrives as its PostgreSQL text output, which is exact PostgreSQL input.
Sessions run with ``TimeZone=UTC`` and ISO date style.
"""

from __future__ import annotations

import io
import logging
import select
import time
from collections.abc import Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

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
from workbench.connectors.dialect import (
    HLL_BITS,
    HLL_W_MASK,
    ChecksumSql,
    ProfileSql,
    SampleSql,
    SqlDialect,
    concat_row,
)
from workbench.connectors.pgcopy import NO_STATEMENT_TIMEOUT, unhex_bytea
from workbench.connectors.postgres_catalog import introspect
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
    TlsError,
    WorkbenchError,
)
from workbench.schema.model import DatabaseSchema, Table, same_type
from workbench.urls import mask_url, parse_url

log = logging.getLogger(__name__)

# native type name -> Arrow type for values psycopg delivers exactly as Python objects
ARROW_TYPES: dict[str, pa.DataType] = {
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "float4": pa.float32(),
    "float8": pa.float64(),
    "bool": pa.bool_(),
    "text": pa.string(),
    "varchar": pa.string(),
    "bpchar": pa.string(),
    "name": pa.string(),
    "citext": pa.string(),
    "bytea": pa.binary(),
}
INTEGER_TYPES = {"int2", "int4", "int8"}
# The workbench's queries are partition reads and checksums, several in flight at once:
# parallel workers only pass rows through shared memory to the backend that writes them,
# and JIT compiles (and for checksums' many function calls, optimizes) each partition's
# query anew. TPC-H SF1 lineitem read in 25 key ranges: 9.1 CPU-s of PostgreSQL with both,
# 6.1 without (the whole table's COPY: 5.5); a validated PG->PG copy: 52.7 -> 41.9 CPU-s.
SESSION = (
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
    "SET extra_float_digits = 3; SET bytea_output = 'hex'; "
    "SET max_parallel_workers_per_gather = 0; SET jit = off; "
    "SET row_security = off; "  # a read that a policy would filter fails (see unreadable)
    + NO_STATEMENT_TIMEOUT  # a read or checksum runs as long as its rows take
)


def _psycopg() -> ModuleType:
    try:
        import psycopg
    except ImportError as exc:
        raise DriverMissingError(
            "The PostgreSQL driver psycopg is not installed: pip install 'psycopg[binary]'"
        ) from exc
    return psycopg


def conninfo(url: str) -> str:
    """A libpq URI from our URL (drops a ``+driver`` suffix; socket ``?host=`` URIs pass)."""
    parsed = parse_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def map_error(exc: Exception, url: str, database: str | None) -> WorkbenchError:
    """Translate a psycopg error into the workbench's typed error (message names next step)."""
    where_ = mask_url(url)
    text = str(exc)
    state = getattr(exc, "sqlstate", None) or ""
    low = text.lower()
    if (
        state in ("28P01", "28000")
        or "password authentication failed" in low
        or ("no password supplied" in low)
    ):
        if "no pg_hba.conf entry" in low and "ssl" in low:
            return TlsError(
                f"Cannot connect to {where_}: the server requires TLS for this user; "
                "add sslmode=require to the URL",
                url=where_,
            )
        return AuthenticationError(
            f"Cannot connect to {where_}: password rejected or user unknown; "
            "update the connection's user or secret",
            url=where_,
        )
    if state == "3D000" or ("database" in low and "does not exist" in low):
        return DatabaseMissingError(
            f"Cannot connect to {where_}: database {database!r} does not exist; "
            "create it or correct the database name",
            url=where_,
            database=database,
        )
    if "ssl" in low or "tls" in low:
        return TlsError(
            f"Cannot connect to {where_}: TLS negotiation failed ({text.strip()}); check the "
            "URL's sslmode against the server's TLS setting",
            url=where_,
        )
    if state == "42501" or "permission denied" in low:
        return CatalogPermissionError(
            f"Connected to {where_} but may not read the catalog ({text.strip()}); "
            "grant the user SELECT on the catalog or use a user who can",
            url=where_,
        )
    return CannotConnectError(
        f"Cannot connect to {where_}: {text.strip()}; check host, port and that the "
        "server is running and reachable",
        url=where_,
    )


# --- the SQL pushed down to PostgreSQL (profiling, sampling, fingerprints, checksums) ---------

# Unsigned rendering of bit(n <= 64): ::bigint is signed, so B'1000...0' (2^63) came out negative
_BITS_UNSIGNED = (
    "CASE WHEN ({e})::bigint < 0 THEN (({e})::bigint::numeric + 18446744073709551616)::text"
    " ELSE ({e})::bigint::text END"
)


def _special(category: str, expr: str, pg_type: str, is_utf8: bool) -> str | None:
    padded = pg_type.strip().lower().startswith(("char", "character(", "bpchar"))
    if category == "text" and padded:
        return f"({expr})::text"  # char(n) prints its padding; ::text drops it, as MySQL does
    return None


def _catalog_signal(table: Table) -> tuple[str, list[Any]]:
    return (
        "SELECT pg_relation_size(c.oid), s.n_tup_ins, s.n_tup_upd, s.n_tup_del "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
        "WHERE n.nspname = %s AND c.relname = %s",
        [table.schema or "public", table.name],
    )


DIALECT = SqlDialect(
    name="postgresql",
    placeholder="%s",
    profile=ProfileSql(
        text_length="length({})",
        byte_length="octet_length({})",
        as_float="({})::float8",
        as_text="({})::text",
        stddev="stddev_samp(({})::float8)",
        hll_hash="hashtextextended(({})::text, 0)",
        hll_w=f"((({{}}) >> {HLL_BITS}) & {HLL_W_MASK})",
        log2="floor(ln(({})::float8) / ln(2.0))",
        lateral_values=True,
        bool_as_float="(({})::int)::float8",
    ),
    sample=SampleSql(
        server_sample=(
            "SELECT {select} FROM {ref} TABLESAMPLE BERNOULLI ({percent}) REPEATABLE ({seed}) "
            "ORDER BY random() LIMIT {size}"
        ),
        server_method="tablesample bernoulli",
    ),
    catalog_signal=_catalog_signal,
    checksum=ChecksumSql(
        canonical={
            "int": "({e})::text",
            "timestamp_ns": "to_char({e}, 'YYYY-MM-DD HH24:MI:SS.US')",
            "timestamptz_ns": "to_char(({e}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
            "year": "({e})::text",
            "list": "({e})::text",
            "numeric": "({e})::text",
            "text": "({e})::text",
            "set": "array_to_string({e}, ',')",
            "bool": "CASE WHEN {e} THEN 't' WHEN NOT {e} THEN 'f' END",
            "date": "to_char({e}, 'YYYY-MM-DD')",
            "timestamp": "to_char({e}, 'YYYY-MM-DD HH24:MI:SS.US')",
            "timestamptz": "to_char(({e}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
            "interval": "(extract(epoch from {e}) * 1000000)::numeric(30,0)::text",
            "bytea": "upper(encode({e}, 'hex'))",
            "bit": _BITS_UNSIGNED,
            "inet": "host({e})",
        },
        # integers and decimals print themselves; dates too in ISO DateStyle (set per session)
        implicit=frozenset({"int", "year", "numeric", "text", "date"}),
        row_text=concat_row,
        # the row's UTF-8 bytes, whatever the database's encoding: md5(text) hashes the
        # server's bytes, and a LATIN1 database's 'cafÃ©' has the bytes of UTF-8's 'café'
        hash_sum="coalesce(sum(('x' || substr({hex}, 1, 15))::bit(60)::bigint), 0)",
        digests={
            "md5": "md5(convert_to({row}, 'UTF8'))",
            "sha224": "encode(sha224(convert_to({row}, 'UTF8')), 'hex')",
        },
        # real sums in single precision (3.4e38 twice overflows, 1.1 drifts): double it
        double="({e})::double precision",
        special=_special,
        is_target_engine=True,
    ),
)


# Settings that slow a bulk load into PostgreSQL: name -> (least bytes, value to use, why)
LOAD_SETTINGS: dict[str, tuple[int, str, str]] = {
    "max_wal_size": (
        4 << 30,
        "'4GB' or more",
        "a load fills the WAL in seconds, and each time it is full PostgreSQL checkpoints",
    ),
    "maintenance_work_mem": (
        256 << 20,
        "'1GB' (the workbench raises it to 256MB for its own index builds)",
        "keys and indexes are built after the load, each sorting in this much memory",
    ),
    "shared_buffers": (
        1 << 30,
        "about a quarter of the server's memory",
        "the load and its validation reread pages that fell out of a small cache",
    ),
}


def _size(n: int) -> str:
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= factor and n % factor == 0:
            return f"{n // factor}{unit}"
    return f"{n}B"


class PostgresConnector(Connector):
    kind = "postgresql"
    capabilities = Capabilities(dialect="postgresql", can_write=True)
    dialect = DIALECT

    def __init__(
        self, url: str, *, connect_timeout: float = 10.0, options: dict[str, Any] | None = None
    ):
        super().__init__(url, connect_timeout=connect_timeout, options=options)
        self._conn: Any = None

    # --- connections ---------------------------------------------------------------
    def _connect(self) -> Any:
        psycopg = _psycopg()
        try:
            conn = psycopg.connect(
                conninfo(self.url),
                connect_timeout=max(1, round(self.connect_timeout)),
                autocommit=True,
                application_name="workbench",
            )
        except psycopg.Error as exc:
            raise map_error(exc, self.url, parse_url(self.url).database) from exc
        conn.execute(SESSION)
        return conn

    @property
    def conn(self) -> Any:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def run(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            rows: list[tuple[Any, ...]] = cur.fetchall()
            return rows

    # --- the interface -------------------------------------------------------------
    def test(self) -> ConnectionTest:
        start = time.perf_counter()
        conn = self._connect()
        try:
            version = conn.execute("SHOW server_version").fetchone()[0]
            conn.execute("SELECT 1").fetchone()
        finally:
            conn.close()
        latency = (time.perf_counter() - start) * 1000
        return ConnectionTest(True, f"PostgreSQL {version}", round(latency, 2), mask_url(self.url))

    def free_connections(self) -> int | None:
        # a role's CONNECTION LIMIT and a database's count too (superusers are exempt):
        # partitions over them were refused and retried until others ended
        row = self.run(
            "SELECT current_setting('max_connections')::int"
            " - current_setting('superuser_reserved_connections')::int"
            " - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),"
            " r.rolsuper, r.rolconnlimit, (SELECT count(*) FROM pg_stat_activity"
            " WHERE usename = current_user AND backend_type = 'client backend'),"
            " d.datconnlimit, (SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND backend_type = 'client backend')"
            " FROM pg_roles r, pg_database d"
            " WHERE r.rolname = current_user AND d.datname = current_database()"
        )
        free, superuser, role_limit, role_used, db_limit, db_used = row[0]
        free = int(free)
        if not superuser:
            for limit, used in ((role_limit, role_used), (db_limit, db_used)):
                if limit is not None and limit >= 0:
                    free = min(free, int(limit) - int(used))
        return max(0, free)

    def load_advice(self) -> list[ServerAdvice]:
        """As a target: WAL checkpoints during the load, index builds after it, the cache."""
        found = dict(
            self.run(
                "SELECT name, pg_size_bytes(setting || CASE unit WHEN '8kB' THEN '' ELSE "
                "coalesce(unit, '') END) * CASE unit WHEN '8kB' THEN 8192 ELSE 1 END "
                "FROM pg_settings WHERE name = ANY(%s)",
                [list(LOAD_SETTINGS)],
            )
        )
        return [
            ServerAdvice(name, _size(found[name]), suggested, why)
            for name, (least, suggested, why) in LOAD_SETTINGS.items()
            if name in found and found[name] < least
        ]

    def make_read_only(self) -> None:
        """New sessions of the database start read-only (``default_transaction_read_only``),
        and the sessions open now, the applications' (not a superuser's, not this one), are
        ended so that they reconnect read-only: their writes fail from here on."""
        database = parse_url(self.url).database or "postgres"
        self.conn.execute(f"ALTER DATABASE {quote_ident(database, 'postgresql')}"
                          " SET default_transaction_read_only = on")  # fmt: skip
        self.run(
            "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a"
            " JOIN pg_roles r ON r.oid = a.usesysid"
            " WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()"
            " AND NOT r.rolsuper AND a.backend_type = 'client backend'"
        )

    def start_change_stream(self, tables: Sequence[Table], job_key: str) -> Position:
        from workbench.connectors import postgres_changes

        return postgres_changes.start(self.conn, tables, job_key)

    def read_changes(self, start: Position, tables: Sequence[Table]) -> Iterator[Change]:
        from workbench.connectors import postgres_changes

        conn = self._connect()
        conn.autocommit = False  # the changes come through a server-side cursor
        try:
            yield from postgres_changes.read(conn, start, tables)
        finally:
            conn.close()

    def end_change_stream(self, position: Position) -> None:
        from workbench.connectors import postgres_changes

        postgres_changes.end(self.conn, position.file)

    def change_stream_problems(
        self, copy_seconds: float | None = None
    ) -> list[ServerAdvice] | None:
        """Logical replication (pgoutput): wal_level, slots and senders, a login allowed to
        replicate."""
        settings = dict(
            self.run(
                "SELECT name, setting FROM pg_settings"
                " WHERE name IN ('wal_level', 'max_replication_slots', 'max_wal_senders')"
            )
        )
        role = self.run(
            "SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        problems = []
        if settings.get("wal_level") != "logical":
            problems.append(
                ServerAdvice(
                    "wal_level",
                    str(settings.get("wal_level")),
                    "logical (a restart)",
                    "changes are decoded from the WAL, which only 'logical' keeps enough of",
                )
            )
        for name in ("max_replication_slots", "max_wal_senders"):
            if int(settings.get(name) or 0) < 1:
                problems.append(
                    ServerAdvice(
                        name,
                        str(settings.get(name)),
                        "10",
                        "a follower holds one replication slot and one WAL sender",
                    )
                )
        if not (role and role[0][0]):
            problems.append(
                ServerAdvice(
                    "role attribute REPLICATION",
                    "not granted",
                    "ALTER ROLE the login REPLICATION",
                    "opening a replication connection needs it",
                )
            )
        return problems

    def introspect(
        self, schemas: Sequence[str] | None = None, tables: Sequence[str] | None = None
    ) -> DatabaseSchema:

        psycopg = _psycopg()
        try:
            return introspect(self, schemas, tables)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise map_error(exc, self.url, None) from exc

    def count(self, table: Table, partition: Partition | None = None) -> int:
        pred, params = partition_predicate(partition, "postgresql", placeholder="\x00")
        sql = f"SELECT COUNT(*) FROM {table_ref(table, 'postgresql')}{where(pred)}"
        return int(self.run(percent_safe(sql), params)[0][0])

    def unreadable(self, tables: Sequence[Table]) -> list[str]:
        if not tables:
            return []
        refs = [
            f"{quote_ident(t.schema or 'public', 'postgresql')}.{quote_ident(t.name, 'postgresql')}"
            for t in tables
        ]
        # a row-level security policy would hand the login some rows only (and validation,
        # reading as the same login, would agree): such tables are named too, and the
        # session's row_security = off makes a read they would filter fail, as pg_dump does
        rows = self.run(
            "SELECT n, has_table_privilege(ref, 'SELECT') FROM unnest(%s::text[])"
            " WITH ORDINALITY u(ref, n) WHERE NOT has_table_privilege(ref, 'SELECT')"
            " OR row_security_active(ref) ORDER BY n",
            (refs,),
        )
        policed = " (row-level security hides rows from this login: use the table's owner "
        policed += "or a role with BYPASSRLS)"
        return [tables[int(n) - 1].qualified_name + ("" if not may else policed) for n, may in rows]

    def split_points(
        self, table: Table, key_columns: Sequence[str], parts: int
    ) -> list[tuple[Any, ...]]:
        native = table.column(key_columns[0]).native if key_columns else None
        first = (native.base or native).name if native is not None else ""  # a domain's base

        def sample_from(rows: int, wanted: int) -> str:
            pct = min(100.0, max(0.0001, 100.0 * wanted / rows))
            return f"{table_ref(table, 'postgresql')} TABLESAMPLE SYSTEM ({pct:.6f})"

        return splitting.split_points(
            self.run,
            table,
            key_columns,
            parts,
            "postgresql",
            is_integer=first in INTEGER_TYPES,
            sample_from=sample_from,
            sample_threshold=int(self.options.get("sample_threshold", splitting.SAMPLE_THRESHOLD)),
        )

    def read_partition(
        self,
        table: Table,
        partition: Partition,
        columns: Sequence[str] | None = None,
        batch_rows: int = 50_000,
        expressions: Mapping[str, str] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        names = list(columns) if columns is not None else list(table.column_names)
        exprs = dict(expressions or {})
        types: list[pa.DataType] = []
        for name in names:
            native = table.column(name).native if name in table.column_names else None
            arrow = (
                ARROW_TYPES.get(native.name)
                if native is not None and not native.array_dims and name not in exprs
                else None
            )
            if arrow is None:  # exact text output for everything else
                exprs[name] = f"({exprs.get(name, quote_ident(name, 'postgresql'))})::text"
                arrow = pa.string()
            types.append(arrow)
        _, select = select_list(table, "postgresql", names, exprs)
        pred, params = partition_predicate(partition, "postgresql", placeholder="\x00")
        text = f"SELECT {select} FROM {table_ref(table, 'postgresql')}{where(pred)}"
        yield from self._copy_out(text, params, names, types, batch_rows)

    def reads_natively(self, table: Table) -> bool:
        return True  # COPY's CSV parsed by Arrow's reader

    def can_copy_text(self, table: Table, fields: Sequence[TextField]) -> bool:
        """Columns read plain into columns of their own type (enums and other user types
        included): their COPY text is what the target reads back as the same value."""
        return all(
            f.expression is None
            and f.nulled_when is None
            and same_type(table.column(f.source).native, f.pg_type)
            for f in fields
        )

    def read_copy_text(
        self, table: Table, partition: Partition, fields: Sequence[TextField], chunk_bytes: int
    ) -> Iterator[TextChunk]:
        """``COPY (select) TO STDOUT`` in text format, passed on unparsed: the session's
        settings (UTF-8, ISO dates, hex bytea, exact floats) make every value's text what a
        column of the same type reads back as the same value."""
        _, select = select_list(table, "postgresql", [f.source for f in fields])
        pred, params = partition_predicate(partition, "postgresql", placeholder="\x00")
        text = f"SELECT {select} FROM {table_ref(table, 'postgresql')}{where(pred)}"
        conn = self._connect()
        try:
            conn.execute("SET client_encoding TO 'UTF8'")
            with conn.cursor() as cur, cur.copy(_copy_to_stdout(text, params, "text")) as copy:
                yield from _chunks(conn.pgconn, copy, chunk_bytes)
        finally:
            conn.close()

    def _copy_out(
        self,
        select: str,
        params: Sequence[Any],
        names: list[str],
        types: list[pa.DataType],
        batch_rows: int,
    ) -> Iterator[pa.RecordBatch]:
        """``COPY (select) TO STDOUT (FORMAT csv)`` parsed by Arrow's C++ CSV reader: no Python
        per row. bytea arrives as hex text and is decoded vectorized."""
        copy_sql = _copy_to_stdout(select, params, "csv")
        csv_types = {
            n: (pa.string() if pa.types.is_binary(t) else t)
            for n, t in zip(names, types, strict=True)
        }
        conn = self._connect()
        try:
            with conn.cursor() as cur, cur.copy(copy_sql) as copy:
                stream = _CopyStream(copy)
                if not stream.peek():
                    return  # no rows: Arrow's reader refuses an empty file
                reader = pacsv.open_csv(
                    stream,
                    read_options=pacsv.ReadOptions(
                        column_names=names,
                        use_threads=False,
                        block_size=max(1 << 20, batch_rows * 64),
                    ),
                    parse_options=pacsv.ParseOptions(newlines_in_values=True),
                    convert_options=pacsv.ConvertOptions(
                        column_types=csv_types,
                        null_values=[""],
                        strings_can_be_null=True,
                        quoted_strings_can_be_null=False,
                        true_values=["t"],
                        false_values=["f"],
                    ),
                )
                binary = [i for i, t in enumerate(types) if pa.types.is_binary(t)]
                for batch in reader:
                    if binary:
                        arrays = list(batch.columns)
                        for i in binary:
                            arrays[i] = unhex_bytea(arrays[i])
                        batch = pa.RecordBatch.from_arrays(arrays, names=names)
                    yield batch
        finally:
            conn.close()


def _copy_to_stdout(select: str, params: Sequence[Any], form: str) -> Any:
    """``COPY (select) TO STDOUT`` with the partition's bounds (``\\x00`` placeholders in
    ``select``) as literals: COPY takes no parameters."""
    from psycopg import sql as pgsql

    parts = select.split("\x00")
    query = pgsql.SQL("").join(
        [pgsql.SQL(parts[0].replace("{", "{{").replace("}", "}}"))]
        + [
            pgsql.SQL("{}").format(pgsql.Literal(v))
            + pgsql.SQL(p.replace("{", "{{").replace("}", "}}"))
            for v, p in zip(params, parts[1:], strict=True)
        ]
    )
    return pgsql.SQL("COPY ({}) TO STDOUT (FORMAT {})").format(query, pgsql.SQL(form))


def _chunks(pgconn: Any, copy: Any, chunk_bytes: int) -> Iterator[TextChunk]:
    """Rows of a COPY TO joined into chunks, taken straight from libpq: a third of the client
    CPU of one psycopg ``copy.read()`` per row. Waiting for more is a ``select`` on the
    socket (the GIL released: the COPY into the target goes on meanwhile); psycopg's
    ``read`` only reports an error."""
    take, consume, socket = pgconn.get_copy_data, pgconn.consume_input, pgconn.socket
    buffer, rows = bytearray(), 0
    while True:
        nbytes, data = take(1)
        if nbytes > 0:
            buffer += data
            rows += 1
            if len(buffer) >= chunk_bytes:
                yield TextChunk(buffer, rows)  # a fresh buffer follows: no copy
                buffer, rows = bytearray(), 0
        elif nbytes == 0:  # nothing buffered: wait for the server
            select.select([socket], [], [], 1.0)
            consume()
        elif nbytes == -1:  # the end, which psycopg's read would not see again: its result
            _end_copy_out(pgconn)
            break
        else:  # an error: psycopg's read raises it with the server's message
            copy.read()
            raise RuntimeError("COPY TO failed without an error from the server")
    if rows:
        yield TextChunk(buffer, rows)


def _end_copy_out(pgconn: Any) -> None:
    """Collect a finished COPY TO's results (they follow its last row at once)."""
    from psycopg import errors, pq

    while (res := pgconn.get_result()) is not None:
        if res.status != pq.ExecStatus.COMMAND_OK:
            raise errors.error_from_result(res, encoding="utf-8")


class _CopyStream(io.RawIOBase):
    """A readable file over a psycopg ``Copy`` (for Arrow's streaming CSV reader)."""

    def __init__(self, copy: Any) -> None:
        self._chunks = iter(copy)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def peek(self) -> bool:
        """Whether any data will come (reads the first chunk if needed)."""
        while not self._pending:
            try:
                self._pending = memoryview(next(self._chunks))
            except StopIteration:
                return False
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` from as many COPY rows as fit (PostgreSQL sends one row a message)."""
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            if not self._pending:
                try:
                    self._pending = memoryview(next(self._chunks))
                except StopIteration:
                    break
            n = min(len(view) - filled, len(self._pending))
            view[filled : filled + n] = self._pending[:n]
            self._pending = self._pending[n:]
            filled += n
        return filled
