"""DuckDB connector (read-only), also the engine under the CSV/Parquet folder connector.

Value contract of :meth:`DuckDBConnector.read_partition`: DuckDB's own Arrow export, streamed
in ``batch_rows`` batches (ints incl. unsigned, decimal128, dates, timestamps, strings,
binary, lists); hugeint, interval, uuid, json, bit and struct/map columns come through the
type map's read expressions as text.

Content checksums run inside DuckDB through :meth:`DuckDBConnector.run` (renderings of the
``duckdb`` dialect in ``connectors.checksums``), so copies validate by default.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa

from workbench.connectors import splitting
from workbench.connectors.base import Capabilities, ConnectionTest, Connector, Partition
from workbench.connectors.checksums import PRESENCE
from workbench.connectors.dialect import ChecksumSql, ProfileSql, SampleSql, SqlDialect, concat_row
from workbench.connectors.sqltext import partition_predicate, select_list, table_ref, where
from workbench.errors import DatabaseMissingError, DriverMissingError, TransientError
from workbench.schema.model import (
    CheckConstraint,
    Column,
    DatabaseSchema,
    Index,
    NativeType,
    Table,
    UniqueConstraint,
)
from workbench.urls import mask_url, parse_url

log = logging.getLogger(__name__)
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
INTEGER_TYPES = {
    "tinyint",
    "smallint",
    "integer",
    "bigint",
    "utinyint",
    "usmallint",
    "uinteger",
    "ubigint",
    "hugeint",
}


def duckdb_module() -> ModuleType:
    try:
        import duckdb
    except ImportError as exc:
        raise DriverMissingError("The DuckDB driver is not installed: pip install duckdb") from exc
    return duckdb


# DuckDB's defaults (80% of RAM, a thread per core) kept every block a copy read cached until
# the connection closed and ran each partition's scan on every core beside the engine's other
# partitions: SF1 from a DuckDB file peaked at 1.4-1.8x SF0.1's memory. Each connection starts
# bounded (a small buffer pool, no spilling into the user's folder) and a copy's reads run on
# one thread each (the engine reads partitions side by side; profiling keeps every core); a
# query that needs more memory raises the bound fourfold (past 1 GB: DuckDB's default) and
# runs again. The bound holds DuckDB's vectors of 2,048 rows and a Parquet row group's pages
# (Arrow batches are outside it): rows of a few kB, two scans at a time, fit in the first one.
MEMORY_LIMIT_MB = 32
_RAISED_MB: dict[str, int] = {}  # sources a query outgrew the bound on: their bound (0: none)


def bounded(conn: Any, url: str) -> Any:
    """``conn`` with its source's memory bound (it holds for every connection to the same
    database)."""
    mb = _RAISED_MB.get(url, MEMORY_LIMIT_MB)
    if mb:
        conn.execute(f"SET memory_limit = '{mb}MB'")
        conn.execute("SET temp_directory = ''")  # out of memory raises the bound, never spills
    return conn


def bound_at_least(url: str, mb: int) -> None:
    """Start ``url``'s connections with at least ``mb`` of memory (a reader known to need it)."""
    current = _RAISED_MB.get(url, MEMORY_LIMIT_MB)
    if current:
        _RAISED_MB[url] = max(current, mb)


def out_of_memory(exc: BaseException) -> bool:
    """DuckDB's out of memory, also as the ``OSError`` it becomes through an Arrow stream."""
    return isinstance(exc, duckdb_module().OutOfMemoryException) or (
        isinstance(exc, OSError) and str(exc).startswith("Out of Memory Error")
    )


_ASKED = re.compile(r"allocate data of size ([0-9.]+) ([KMGT])iB")


def raise_bound(conn: Any, url: str, exc: BaseException) -> bool:
    """Raise ``conn``'s memory bound after a query ran out of it (fourfold, or to four times
    what it asked for at once); False if it had none."""
    mb = _RAISED_MB.get(url, MEMORY_LIMIT_MB)
    if not mb:
        return False  # out of DuckDB's own memory: a real error
    asked = _ASKED.search(str(exc))
    if asked:
        size = float(asked.group(1)) * 1024 ** "KMGT".index(asked.group(2)) / 1024
        mb = max(mb, math.ceil(size))
    mb = 0 if mb * 4 > 1024 else mb * 4
    _RAISED_MB[url] = mb
    if mb:
        conn.execute(f"SET memory_limit = '{mb}MB'")
    else:
        conn.execute("RESET memory_limit")
    log.info(
        "%s: a query ran out of DuckDB's memory bound; raised to %s",
        mask_url(url),
        f"{mb} MB" if mb else "DuckDB's default",
    )
    return True


def native_type(text: str) -> NativeType:
    """DuckDB's ``data_type`` text to the model (lists keep their element as ``base``)."""
    t = text.strip()
    if t.endswith("]"):
        inner = t[: t.rindex("[")]
        return NativeType(name="list", raw=t, array_dims=1, base=native_type(inner))
    m = _DECIMAL.match(t)
    if m:
        return NativeType("decimal", precision=int(m.group(1)), scale=int(m.group(2)), raw=t)
    if t.startswith("ENUM("):
        values = tuple(v.replace("''", "'") for v in re.findall(r"'((?:[^']|'')*)'", t))
        return NativeType("enum", values=values, raw=t)
    for prefix in ("STRUCT", "MAP", "UNION"):
        if t.startswith(prefix + "("):
            return NativeType(prefix.lower(), raw=t)
    return NativeType(t.lower(), raw=t)


# --- the SQL pushed down to DuckDB (profiling, sampling, fingerprints, checksums) -------------

# An interval (read as text) in microseconds as PostgreSQL's extract(epoch) counts them:
# a year is 365.25 days, a month 30 days; each part keeps its own sign in both engines
_INTERVAL_US = (
    "CAST(CAST(datepart('year', {i}) AS HUGEINT) * 31557600000000"
    " + CAST(datepart('month', {i}) AS HUGEINT) * 2592000000000"
    " + CAST(datepart('day', {i}) AS HUGEINT) * 86400000000"
    " + CAST(datepart('hour', {i}) AS HUGEINT) * 3600000000"
    " + datepart('minute', {i}) * 60000000 + datepart('microseconds', {i}) AS VARCHAR)"
)

# TIMESTAMP_NS to microseconds as PostgreSQL reads 9 fraction digits: to the nearest,
# halves up (DuckDB's // and % truncate towards zero)
_NS_TO_US = (
    "epoch_ns({e}) // 1000 - CASE WHEN epoch_ns({e}) % 1000 < 0 THEN 1 ELSE 0 END"
    " + CASE WHEN (epoch_ns({e}) % 1000 + 1000) % 1000 >= 500 THEN 1 ELSE 0 END"
)

# Elements of a DuckDB list rendered as PostgreSQL's array output prints them (an element type
# whose text differs between the two, such as floats or timestamps, leaves the list to a count)
_LIST_ELEMENTS = {
    "smallint": "CAST({x} AS VARCHAR)",
    "integer": "CAST({x} AS VARCHAR)",
    "bigint": "CAST({x} AS VARCHAR)",
    "numeric": "CAST({x} AS VARCHAR)",
    "text": "CAST({x} AS VARCHAR)",
    "uuid": "CAST({x} AS VARCHAR)",
    "date": "CAST({x} AS VARCHAR)",
    "boolean": "CASE WHEN {x} THEN 't' WHEN NOT {x} THEN 'f' END",
}


def _list_element(pg_type: str) -> str | None:
    """The DuckDB rendering of one element of a ``pg_type`` array (None: not renderable)."""
    element = pg_type.strip().lower()[:-2]
    if element.endswith("]"):
        return None  # nested lists
    return _LIST_ELEMENTS.get(re.split(r"[\s(]", element, maxsplit=1)[0])


def _duckdb_lambda(param: str, body: str) -> str:
    """A DuckDB lambda: ``lambda x: ...`` since 1.3 (2.0 refuses ``x -> ...`` by default)."""
    try:
        import duckdb

        version = tuple(int(p) for p in re.findall(r"\d+", duckdb.__version__)[:2])
    except ImportError:  # pragma: no cover - only DuckDB runs this SQL
        version = (2, 0)
    return f"lambda {param}: {body}" if version >= (1, 3) else f"{param} -> {body}"


def _duckdb_list(expr: str, pg_type: str) -> str:
    """PostgreSQL's array output of a DuckDB list: '{1,NULL,"a b","x\\"y"}'. An element is
    quoted when empty, NULL-like, or holding braces, quotes, commas, backslashes or space."""
    element = _list_element(pg_type) or "CAST({x} AS VARCHAR)"
    rendered = f"list_transform({expr}, {_duckdb_lambda('x', element.format(x='x'))})"
    quoted = (
        "CASE WHEN s IS NULL THEN 'NULL' WHEN s = '' OR upper(s) = 'NULL' OR "
        "regexp_matches(s, '[{}\",\\\\ \\t\\n\\r\\v\\f]') "
        "THEN '\"' || replace(replace(s, '\\', '\\\\'), '\"', '\\\"') || '\"' ELSE s END"
    )
    items = f"list_transform({rendered}, {_duckdb_lambda('s', quoted)})"
    text = f"'{{' || array_to_string({items}, ',') || '}}'"
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE {text} END"


def _duckdb_interval(expr: str, pg_type: str) -> str:
    """Microseconds of a time or (text-read) interval, as PostgreSQL's extract(epoch) * 10^6."""
    if pg_type.strip().lower().startswith("time"):
        return f"CAST(epoch_us({expr}) AS VARCHAR)"
    return _INTERVAL_US.format(i=f"CAST({expr} AS INTERVAL)")


def _special(category: str, expr: str, pg_type: str, is_utf8: bool) -> str | None:
    if category == "list":
        return _duckdb_list(expr, pg_type)
    if category == "interval":
        return _duckdb_interval(expr, pg_type)
    return None


def _category(pg_type: str, native: str) -> str | None:
    if pg_type.endswith("[]"):  # a list: rendered as PostgreSQL prints arrays
        return "list" if _list_element(pg_type) is not None else PRESENCE
    if native in ("timestamp_ns", "timestamptz_ns") and pg_type.startswith("timestamp"):
        return native  # rounded to microseconds, as the copy's text is read
    if native == "time with time zone" and pg_type == "timetz":
        return "text"  # both print 12:34:56.5+05:30
    return None


DIALECT = SqlDialect(
    name="duckdb",
    placeholder="?",
    profile=ProfileSql(
        text_length="length({})",
        byte_length="octet_length({})",
        as_float="CAST({} AS DOUBLE)",
        as_text="CAST({} AS VARCHAR)",
        stddev="stddev_samp(CAST({} AS DOUBLE))",
        approx_distinct="approx_count_distinct({})",
    ),
    sample=SampleSql(
        reservoir=(
            "SELECT {select} FROM {ref} USING SAMPLE reservoir({size} ROWS) REPEATABLE ({seed})"
        ),
    ),
    checksum=ChecksumSql(
        canonical={
            "int": "CAST({e} AS VARCHAR)",
            "numeric": "CAST({e} AS VARCHAR)",  # decimal(p,s) prints its scale, as numeric does
            "text": "CAST({e} AS VARCHAR)",  # also enum and uuid (lower case, as PostgreSQL)
            "bool": "CASE WHEN {e} THEN 't' WHEN NOT {e} THEN 'f' END",
            "date": "CAST({e} AS VARCHAR)",
            # strftime would cast TIMESTAMP_S/_MS to nanoseconds (years 1677..2262 only)
            "timestamp": "strftime(CAST({e} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S.%f')",
            "timestamp_ns": "strftime(make_timestamp(" + _NS_TO_US + "), '%Y-%m-%d %H:%M:%S.%f')",
            # epoch_ns counts from UTC's epoch: the instant's UTC text, as PostgreSQL's below
            "timestamptz_ns": "strftime(make_timestamp(" + _NS_TO_US + "), '%Y-%m-%d %H:%M:%S.%f')",
            "timestamptz": "strftime(({e}) AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%f')",
            "bytea": "hex({e})",
            "bit": "CAST({e} AS VARCHAR)",
        },
        row_text=concat_row,
        hash_sum="coalesce(sum(CAST('0x' || substr({hex}, 1, 15) AS BIGINT)), 0)",  # HUGEINT
        digests={"md5": "md5({row})"},
        double="CAST({e} AS DOUBLE)",
        special=_special,
        category=_category,
        target_renderings={"bit": "({e})::text"},  # bit varying, any length: its 0/1 text
    ),
)


class DuckDBConnector(Connector):
    @classmethod
    def local_path(cls, url: str) -> Path | None:
        return Path(parse_url(url).database or "").absolute()

    kind = "duckdb"
    capabilities = Capabilities(dialect="duckdb")
    dialect = DIALECT

    def __init__(
        self, url: str, *, connect_timeout: float = 10.0, options: dict[str, Any] | None = None
    ):
        super().__init__(url, connect_timeout=connect_timeout, options=options)
        self._conn: Any = None

    def _connect(self) -> Any:
        duckdb = duckdb_module()
        path = parse_url(self.url).database or ":memory:"
        if path != ":memory:" and not Path(path).is_file():
            raise DatabaseMissingError(
                f"Cannot open {mask_url(self.url)}: no DuckDB file at {path}; check the path",
                url=mask_url(self.url),
            )
        try:
            return bounded(duckdb.connect(path, read_only=path != ":memory:"), self.url)
        except duckdb.Error as exc:
            raise DatabaseMissingError(
                f"Cannot open {mask_url(self.url)}: {exc}; is it a DuckDB database file?",
                url=mask_url(self.url),
            ) from exc

    @property
    def conn(self) -> Any:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def run(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        while True:
            try:
                rows: list[tuple[Any, ...]] = self.conn.execute(sql, params or []).fetchall()
                return rows
            except Exception as exc:
                if not out_of_memory(exc) or not raise_bound(self.conn, self.url, exc):
                    raise

    def test(self) -> ConnectionTest:
        start = time.perf_counter()
        version = self.run("SELECT version()")[0][0]
        latency = (time.perf_counter() - start) * 1000
        return ConnectionTest(True, f"DuckDB {version}", round(latency, 2), mask_url(self.url))

    def _relations(self) -> list[tuple[Any, ...]]:
        """(schema, name, kind, row estimate, size, comment, view sql) of user relations."""
        rows = self.run(
            "SELECT schema_name, table_name, 'table', estimated_size, NULL, comment, NULL "
            "FROM duckdb_tables() WHERE NOT internal AND NOT temporary"
        )
        rows += self.run(
            "SELECT schema_name, view_name, 'view', NULL, NULL, comment, sql FROM duckdb_views() "
            "WHERE NOT internal AND NOT temporary"
        )
        return sorted(rows, key=lambda r: (r[0], r[1]))

    def introspect(
        self, schemas: Sequence[str] | None = None, tables: Sequence[str] | None = None
    ) -> DatabaseSchema:
        rels = [
            r
            for r in self._relations()
            if (not schemas or r[0] in schemas) and (not tables or r[1] in tables)
        ]
        cols: dict[tuple[str, str], list[Column]] = {(r[0], r[1]): [] for r in rels}
        for s, t, name, idx, dtype, nullable, default, comment in self.run(
            "SELECT schema_name, table_name, column_name, column_index, data_type, is_nullable, "
            "column_default, comment FROM duckdb_columns() WHERE NOT internal "
            "ORDER BY schema_name, table_name, column_index"
        ):
            if (s, t) in cols:
                cols[(s, t)].append(
                    Column(
                        name,
                        native_type(dtype),
                        bool(nullable),
                        default,
                        comment=comment,
                        ordinal=idx,
                    )
                )
        pks: dict[tuple[str, str], tuple[str, ...]] = {}
        uniques: dict[tuple[str, str], list[UniqueConstraint]] = {}
        checks: dict[tuple[str, str], list[CheckConstraint]] = {}
        for s, t, ctype, ccols, text, cname in self.run(
            "SELECT schema_name, table_name, constraint_type, constraint_column_names, "
            "constraint_text, constraint_name FROM duckdb_constraints()"
        ):
            key = (s, t)
            if ctype == "PRIMARY KEY":
                pks[key] = tuple(ccols)
            elif ctype == "UNIQUE":
                uniques.setdefault(key, []).append(UniqueConstraint(cname, tuple(ccols)))
            elif ctype == "CHECK":
                checks.setdefault(key, []).append(CheckConstraint(cname, text))
        indexes: dict[tuple[str, str], list[Index]] = {}
        for s, t, name, unique, exprs in self.run(
            "SELECT schema_name, table_name, index_name, is_unique, expressions "
            "FROM duckdb_indexes()"
        ):
            names = [e.strip().strip('"') for e in str(exprs).strip("[]").split(",") if e.strip()]
            known = {c.name for c in cols.get((s, t), [])}
            if all(n in known for n in names):
                indexes.setdefault((s, t), []).append(Index(name, tuple(names), bool(unique)))
        out = []
        for s, t, kind, rows, size, comment, sql in rels:
            key = (s, t)
            out.append(
                Table(
                    schema=s,
                    name=t,
                    columns=tuple(cols[key]),
                    kind=kind,
                    primary_key=pks.get(key, ()),
                    uniques=tuple(uniques.get(key, [])),
                    indexes=tuple(indexes.get(key, [])),
                    checks=tuple(checks.get(key, [])),
                    row_estimate=rows,
                    size_bytes=size,
                    comment=comment,
                    view_definition=sql,
                )
            )
        version = self.run("SELECT version()")[0][0]
        return DatabaseSchema(self.capabilities.dialect, f"DuckDB {version}", tuple(out))

    def count(self, table: Table, partition: Partition | None = None) -> int:
        pred, params = partition_predicate(partition, "duckdb", placeholder="?")
        sql = f"SELECT COUNT(*) FROM {table_ref(table, 'duckdb')}{where(pred)}"
        return int(self.run(sql, params)[0][0])

    def split_points(
        self, table: Table, key_columns: Sequence[str], parts: int
    ) -> list[tuple[Any, ...]]:
        if any(table.column(k).native.name == "enum" for k in key_columns):
            # DuckDB sorts an ENUM by its members' order but compares it with a bound as
            # text ('Mid' < 'alpha'): ranges cut from sorted members overlap. One partition.
            return []
        first = table.column(key_columns[0]).native.name if key_columns else ""

        def sample_from(rows: int, wanted: int) -> str:
            # a reservoir holds ``wanted`` keys where the exact pass sorts every key (lineitem's
            # composite key: 96 MB, beyond the memory bound)
            return (
                f"{table_ref(table, 'duckdb')} TABLESAMPLE reservoir({wanted} ROWS) REPEATABLE (1)"
            )

        return splitting.split_points(
            lambda sql: self.run(sql),
            table,
            key_columns,
            parts,
            "duckdb",
            is_integer=first in INTEGER_TYPES,
            sample_from=sample_from,
            sample_threshold=int(self.options.get("sample_threshold", splitting.SAMPLE_THRESHOLD)),
        )

    def reads_natively(self, table: Table) -> bool:
        return True  # DuckDB's own Arrow export

    def read_partition(
        self,
        table: Table,
        partition: Partition,
        columns: Sequence[str] | None = None,
        batch_rows: int = 50_000,
        expressions: Mapping[str, str] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        _, select = select_list(table, "duckdb", columns, expressions)
        pred, params = partition_predicate(partition, "duckdb", placeholder="?")
        sql = f"SELECT {select} FROM {table_ref(table, 'duckdb')}{where(pred)}"
        if _RAISED_MB.get(self.url, MEMORY_LIMIT_MB):  # a copy's reads: one thread a scan
            self.conn.execute("SET threads = 1")
        cursor = self.conn.cursor()  # its own cursor: a stream beside other queries
        sent = False
        try:
            while True:
                try:
                    for batch in cursor.sql(sql, params=params or None).to_arrow_reader(batch_rows):
                        sent = True
                        yield batch
                    return
                except Exception as exc:
                    if not out_of_memory(exc) or not raise_bound(self.conn, self.url, exc):
                        raise
                    if sent:  # rows went out already: the partition starts again
                        raise TransientError(
                            f"{table.qualified_name}: DuckDB ran out of its memory bound; "
                            "raised it, the partition is read again"
                        ) from exc
        finally:
            cursor.close()
